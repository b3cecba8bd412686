/**
 * Produced record batches are stored as they arrive (StreamLog.appendBatch: a batch chunk, FORMAT.md
 * "Stream logs"), with their baseOffset set to the log's offset. The CRC-32C starts at the attributes
 * (https://kafka.apache.org/documentation/#recordbatch), so the rewrite keeps the batch valid and a Fetch
 * sends the stored bytes untouched, compressed ones included. Readers that want messages (AMQP stream
 * consumers, the management API) get each batch expanded here, through the broker's stream batch
 * decoder, with the same mapping as before (message-mapping.ts).
 */
import type { Broker } from '../broker/broker.js';
import type { StreamRecord } from '../store/store.js';
import { decompressorFor } from './compression.js';
import { recordToMessage } from './message-mapping.js';
import { messageToRecord } from './message-mapping.js';
import { BATCH_HEADER_BYTES, Compression, compressionOf, decodeRecords, encodeBatch, readBatchHeader, type KafkaRecord } from './protocol/record-batch.js';
import type { KafkaTopics } from './topics.js';

/** Registers the expansion of stored batches into messages with the broker. */
export function registerBatchDecoder(broker: Broker, topics: KafkaTopics): void {
  const headers = broker.messageHeaders;
  broker.setStreamBatchDecoder((record, queueName) => {
    const topic = topicOf(topics, queueName);
    return decodeStoredBatch(record).map(({ offset, kafka }) => {
      const message = recordToMessage(topic, kafka, record.timestamp);
      return { offset, timestamp: record.timestamp, filterValue: undefined, header: headers.encode(message), body: message.body };
    });
  });
}

/** The records of a stored batch with their offsets in the log (decompressed when the batch is). */
export function decodeStoredBatch(record: StreamRecord): Array<{ offset: number; kafka: KafkaRecord }> {
  const batch = record.body;
  const header = readBatchHeader(batch);
  let payload = batch.subarray(BATCH_HEADER_BYTES);
  const codec = compressionOf(header.attributes);
  if (codec !== Compression.None) {
    const decompress = decompressorFor(codec);
    if (decompress === undefined) throw new Error(`a stored Kafka batch uses compression codec ${codec}, which is not available`);
    payload = decompress(payload);
  }
  return decodeRecords(header, payload).map((kafka, i) => ({ offset: record.offset + i, kafka }));
}

/** The topic a partition's queue belongs to: itself (one partition) or `<topic>` of `<topic>-<n>`. */
function topicOf(topics: KafkaTopics, queueName: string): string {
  const match = /^(.*)-(\d+)$/.exec(queueName);
  if (match !== null && (topics.find(match[1]!)?.partitions.length ?? 0) > 1) return match[1]!;
  return queueName;
}

/**
 * A stored batch as a Fetch sends it: the stored bytes, unless the fetch starts inside it (then the
 * records from `from` on, re-encoded, since some clients do not skip the records before their offset)
 * or it is zstd and the Fetch version predates zstd (v10, KIP-110: then uncompressed).
 */
export function batchForFetch(record: StreamRecord, from: number, version: number): Buffer {
  const zstdTooNew = version < 10 && compressionOf(record.body.readInt16BE(21)) === Compression.Zstd;
  if (record.offset >= from && !zstdTooNew) return record.body;
  const kept = decodeStoredBatch(record).filter((r) => r.offset >= from);
  return encodeBatch(kept[0]?.offset ?? from, kept.map(({ kafka }) => ({ timestamp: kafka.timestamp, key: kafka.key, value: kafka.value, headers: kafka.headers })));
}

/** AMQP-written records as one uncompressed batch from the first one's offset (message-mapping.ts). */
export function encodeStoredRecords(broker: Broker, records: readonly StreamRecord[]): Buffer {
  return encodeBatch(records[0]!.offset, records.map((record) => messageToRecord(broker.messageHeaders.decode(record.header, record.body))));
}

/** The first record of a stored batch at or after `timestamp` (ListOffsets), or undefined; by maxTimestamp first. */
export function firstAtOrAfter(record: StreamRecord, timestamp: number): { offset: number; timestamp: number } | undefined {
  if (record.body.length >= BATCH_HEADER_BYTES && record.body.readBigInt64BE(35) < BigInt(timestamp)) return undefined; // maxTimestamp
  for (const { offset, kafka } of decodeStoredBatch(record)) if (kafka.timestamp >= timestamp) return { offset, timestamp: kafka.timestamp };
  return undefined;
}
