/**
 * Produce (key 0), v3-v8: record batches (magic 2) appended to the partitions' streams.
 *
 * Each partition's batches are checked whole before anything is appended (magic, CRC-32C, sizes, count,
 * record lengths of uncompressed batches, a known codec), so a partition either takes all of its batches
 * or none; then each is stored as it arrived (stored-batches.ts), only its baseOffset rewritten. acks=0 gets
 * no response at all (the protocol's rule); acks=1 and acks=-1 (all) are answered once the appends
 * are durable: the store's group commit (after fdatasync with store.sync=always), and the queues' own
 * barriers in a cluster, the same barrier AMQP publisher confirms wait for. With one replica,
 * acks=1 and acks=all are the same promise.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { decompressorFor } from '../compression.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { KafkaDecodeError, Reader } from '../protocol/reader.js';
import {
  BATCH_HEADER_BYTES, batchCrcValid, compressionOf, Compression, isControlBatch, readBatchHeader, setBaseOffset, splitBatches,
  type BatchHeader,
} from '../protocol/record-batch.js';
import type { KafkaSession } from '../session.js';
import { BarrierSet } from '../../session/durability.js';
import { TopicError, type Partition } from '../topics.js';
import { autoCreate } from './topic-lookup.js';
import { checkSequence, recordSequence } from '../producers.js';

interface PartitionData {
  readonly index: number;
  readonly records: Buffer | null;
}

interface PartitionResult {
  readonly index: number;
  error: number;
  baseOffset: number;
  logStartOffset: number;
  message: string | null;
}

interface TopicResult {
  readonly name: string;
  readonly partitions: PartitionResult[];
}

/** Kafka's default message.max.bytes: the largest record batch a partition takes. */
export const MAX_BATCH_BYTES = 1_048_588;

export const produce: KafkaApi = {
  key: ApiKey.Produce,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 8,
  flexibleFrom: 9,
  async handle(session, request): Promise<ResponseBody | undefined> {
    const version = request.header.apiVersion;
    const body = request.body;
    body.nullableString(); // transactional_id: transactions are not offered (no InitProducerId with one succeeds)
    const acks = body.int16();
    body.int32(); // timeout_ms: appends never wait for replicas
    const topics = body.array((r) => ({ name: r.string(), partitions: readPartitions(r) }));
    body.taggedFields();
    while (session.door.blockedReason !== undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    const barriers = new BarrierSet(session.broker);
    // Partitions whose idempotent producers are being rebuilt after a restart append once that is done.
    const later: Array<Promise<unknown>> = [];
    const results: TopicResult[] = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((data) => {
        if (acks !== 0 && acks !== 1 && acks !== -1) return failure(data.index, ErrorCode.INVALID_REQUIRED_ACKS, `acks=${acks} is not 0, 1 or -1`);
        const result = appendPartition(session, topic.name, data);
        if (!(result instanceof Promise)) return result;
        const slot = failure(data.index, ErrorCode.NONE, '');
        later.push(result.then((appended) => Object.assign(slot, appended)));
        return slot;
      }),
    }));
    if (later.length > 0) await Promise.all(later);
    for (const topic of results) {
      for (const result of topic.partitions) {
        if (result.error !== ErrorCode.NONE) continue;
        const durability = session.door.topics.partition(topic.name, result.index)?.queue.durability;
        if (durability !== undefined) barriers.join(durability);
      }
    }
    if (acks === 0) return undefined;
    const lost = await new Promise<boolean>((resolve) => barriers.waitAll(resolve));
    if (lost) {
      for (const topic of results) for (const result of topic.partitions) if (result.error === ErrorCode.NONE) Object.assign(result, failure(result.index, ErrorCode.KAFKA_STORAGE_ERROR, 'the append may not be durable'));
    }
    return (w) => {
      w.array(results, (tw, topic) => {
        tw.string(topic.name);
        tw.array(topic.partitions, (pw, p) => {
          pw.int32(p.index).int16(p.error).int64Number(p.baseOffset).int64Number(-1); // log_append_time_ms: CreateTime
          if (version >= 5) pw.int64Number(p.logStartOffset);
          if (version >= 8) {
            pw.arrayLength(0); // record_errors
            pw.nullableString(p.message);
          }
          pw.taggedFields();
        });
        tw.taggedFields();
      });
      w.int32(0); // throttle_time_ms
      w.taggedFields();
    };
  },
};

function readPartitions(r: Reader): PartitionData[] {
  const partitions = r.array((p) => {
    const index = p.int32();
    const records = p.bytes();
    p.taggedFields();
    return { index, records };
  });
  r.taggedFields();
  return partitions;
}

function failure(index: number, error: number, message: string): PartitionResult {
  return { index, error, baseOffset: -1, logStartOffset: -1, message };
}

function findPartition(session: KafkaSession, topicName: string, index: number): Partition | PartitionResult {
  let topic = session.door.topics.find(topicName);
  if (topic === undefined) {
    try {
      topic = autoCreate(session, topicName);
    } catch (error) {
      if (error instanceof TopicError) return failure(index, error.code, error.message);
      throw error;
    }
  }
  const partition = topic?.partitions[index];
  if (partition === undefined) return failure(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic-partition: ${topicName}-${index}`);
  return partition;
}

interface CheckedBatch {
  readonly header: BatchHeader;
  readonly batch: Buffer;
}

/** The partition's result; a promise of it when its producers must be rebuilt first (producers.ts). */
function appendPartition(session: KafkaSession, topicName: string, data: PartitionData): PartitionResult | Promise<PartitionResult> {
  const found = findPartition(session, topicName, data.index);
  if (!('log' in found)) return found;
  const partition = found;
  const denied = refusal(session, 'write', partition.queue.name);
  if (denied !== undefined) return failure(data.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied);
  if (data.records === null || data.records.length === 0) return failure(data.index, ErrorCode.CORRUPT_MESSAGE, 'no records');
  const checked = checkBatches(data.records);
  if (!Array.isArray(checked)) return { ...failure(data.index, checked.error, checked.message) };
  const log = partition.log;
  const sequence = checkSequence(session, partition, checked.map((b) => b.header));
  // Appended in arrival order: every batch waiting for the same rebuild runs in the order it came.
  if (sequence.recovering !== undefined) return sequence.recovering.then(() => appendPartition(session, topicName, data));
  if (sequence.duplicateOf !== undefined) return { index: data.index, error: ErrorCode.NONE, baseOffset: sequence.duplicateOf, logStartOffset: log.firstOffset, message: null };
  if (sequence.error !== undefined) return failure(data.index, sequence.error, sequence.message ?? 'sequence error');
  const baseOffset = log.nextOffset;
  // Stored as received (stored-batches.ts): only the baseOffset changes, to the offset the log gives it.
  for (const { header, batch } of checked) {
    setBaseOffset(batch, log.nextOffset);
    log.appendBatch(batch, header.count);
  }
  session.door.broker.readPacer.noteWrites(checked.length);
  recordSequence(session, partition, checked.map((b) => b.header), baseOffset);
  return { index: data.index, error: ErrorCode.NONE, baseOffset, logStartOffset: log.firstOffset, message: null };
}

/**
 * Every batch of a partition's record set, checked by its header and CRC-32C (which covers the records,
 * compressed or not); or the error for the partition. Records are not decoded: an uncompressed batch's
 * record lengths must fill it exactly; a compressed one needs a codec this broker can read back.
 */
function checkBatches(records: Buffer): CheckedBatch[] | { error: number; message: string } {
  let batches: Buffer[];
  try {
    batches = splitBatches(records);
  } catch (error) {
    return { error: ErrorCode.CORRUPT_MESSAGE, message: (error as Error).message };
  }
  const out: CheckedBatch[] = [];
  for (const batch of batches) {
    if (batch.length > MAX_BATCH_BYTES) return { error: ErrorCode.MESSAGE_TOO_LARGE, message: `a batch of ${batch.length} bytes is larger than ${MAX_BATCH_BYTES}` };
    const magic = batch.readInt8(16);
    if (magic !== 2) return { error: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, message: `message format v${magic}: Produce v3+ carries record batches v2` };
    if (batch.length < BATCH_HEADER_BYTES) return { error: ErrorCode.CORRUPT_MESSAGE, message: 'batch shorter than its header' };
    if (!batchCrcValid(batch)) return { error: ErrorCode.CORRUPT_MESSAGE, message: 'record batch CRC-32C mismatch' };
    const header = readBatchHeader(batch);
    if (isControlBatch(header.attributes)) return { error: ErrorCode.INVALID_RECORD, message: 'control batches are not accepted from producers' };
    // Offsets are assigned by count: the producer numbers its records 0..lastOffsetDelta (KIP-98).
    if (header.count < 1 || header.count !== header.lastOffsetDelta + 1) {
      return { error: ErrorCode.CORRUPT_MESSAGE, message: `a batch of ${header.count} records with last offset delta ${header.lastOffsetDelta}` };
    }
    const codec = compressionOf(header.attributes);
    if (codec !== Compression.None) {
      if (decompressorFor(codec) === undefined) return { error: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message: `compression codec ${codec} is not available` };
    } else if (!recordsFill(batch.subarray(BATCH_HEADER_BYTES), header.count)) {
      return { error: ErrorCode.CORRUPT_MESSAGE, message: `the records do not fill the batch as its ${header.count} records` };
    }
    out.push({ header, batch });
  }
  return out;
}

/** Whether `count` length-prefixed records (varint lengths, KIP-98) fill `payload` exactly. */
function recordsFill(payload: Buffer, count: number): boolean {
  const r = new Reader(payload);
  try {
    for (let i = 0; i < count; i++) {
      const length = r.varint();
      if (length < 0 || length > r.remaining) return false;
      r.offset += length;
    }
  } catch (error) {
    if (error instanceof KafkaDecodeError) return false;
    throw error;
  }
  return r.remaining === 0;
}
