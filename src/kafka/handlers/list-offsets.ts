/**
 * ListOffsets (key 2), v1-v5: earliest (-2), latest (-1), or the first offset whose record timestamp
 * is at or after a time. The stream log indexes chunks by the time they were written, and a record's
 * own timestamp (CreateTime) is never later than that, so the search starts at the first chunk
 * written at or after the time and reads forward to the first record that is not older (within
 * SCAN_LIMIT_BYTES; past that the chunk's offset is the answer). No such record: offset -1.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';
import { firstAtOrAfter } from '../stored-batches.js';
import type { StreamLog } from '../../store/store.js';

const LATEST = -1;
const EARLIEST = -2;
const SCAN_LIMIT_BYTES = 16 * 1024 * 1024;

interface PartitionAnswer {
  readonly index: number;
  readonly error: number;
  readonly timestamp: number;
  readonly offset: number;
}

export const listOffsets: KafkaApi = {
  key: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 5,
  flexibleFrom: 6,
  async handle(session, request): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const body = request.body;
    body.int32(); // replica_id
    if (version >= 2) body.int8(); // isolation_level
    const topics = body.array((r) => ({
      name: r.string(),
      partitions: r.array((p) => {
        const index = p.int32();
        if (version >= 4) p.int32(); // current_leader_epoch
        return { index, timestamp: p.int64Number() };
      }),
    }));
    const answers: Array<{ name: string; partitions: PartitionAnswer[] }> = [];
    for (const topic of topics) {
      const found = session.door.topics.find(topic.name);
      const partitions: PartitionAnswer[] = [];
      for (const p of topic.partitions) {
        const partition = found?.partitions[p.index];
        if (partition === undefined) partitions.push({ index: p.index, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1 });
        else if (refusal(session, 'read', partition.queue.name) !== undefined) partitions.push({ index: p.index, error: ErrorCode.TOPIC_AUTHORIZATION_FAILED, timestamp: -1, offset: -1 });
        else partitions.push({ index: p.index, error: ErrorCode.NONE, ...(await offsetFor(session, partition.log, p.timestamp)) });
      }
      answers.push({ name: topic.name, partitions });
    }
    return (w) => {
      if (version >= 2) w.int32(0); // throttle_time_ms
      w.array(answers, (tw, topic) => {
        tw.string(topic.name);
        tw.array(topic.partitions, (pw, p) => {
          pw.int32(p.index).int16(p.error).int64Number(p.timestamp).int64Number(p.offset);
          if (version >= 4) pw.int32(0); // leader_epoch
        });
      });
    };
  },
};

async function offsetFor(session: KafkaSession, log: StreamLog, timestamp: number): Promise<{ timestamp: number; offset: number }> {
  if (timestamp === LATEST) return { timestamp: -1, offset: log.readableOffset };
  if (timestamp === EARLIEST) return { timestamp: -1, offset: log.firstOffset };
  if (timestamp < 0) return { timestamp: -1, offset: -1 };
  let at = log.offsetAt(timestamp);
  let scanned = 0;
  while (at < log.readableOffset && scanned < SCAN_LIMIT_BYTES) {
    const records = await log.read(at, 256 * 1024);
    if (records.length === 0) break;
    for (const record of records) {
      if (record.batchCount !== undefined) {
        if (record.offset + record.batchCount <= at) continue;
        const found = firstAtOrAfter(record, timestamp);
        if (found !== undefined && found.offset >= at) return found;
        scanned += record.body.length;
        continue;
      }
      if (record.offset < at) continue;
      const message = session.broker.messageHeaders.decode(record.header, record.body);
      if (message.publishedAt >= timestamp) return { timestamp: Math.round(message.publishedAt), offset: record.offset };
      scanned += record.body.length + record.header.length;
    }
    const last = records[records.length - 1]!;
    at = last.offset + (last.batchCount ?? 1);
  }
  if (scanned >= SCAN_LIMIT_BYTES) return { timestamp, offset: at };
  return { timestamp: -1, offset: -1 };
}
