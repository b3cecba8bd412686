/**
 * Fetch (key 1), v4-v12 (v12 flexible): records from the partitions' streams as record batches v2.
 *
 * Long polls: when fewer than min_bytes are there, the answer waits until a requested partition's
 * log becomes readable again or max_wait_ms has passed (a stream log's onReadable, no polling loop).
 * max_bytes and partition_max_bytes bound the answer, except that the first partition with data
 * always gets at least one batch (KIP-74). Warren has no transactions, so read_committed and
 * read_uncommitted read the same records and the last stable offset is the high watermark (what is
 * written and readable). Incremental fetch sessions (KIP-227) are declined: session_id 0, so clients
 * send full fetches.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { batchForFetch, encodeStoredRecords } from '../stored-batches.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Reader } from '../protocol/reader.js';
import type { Writer } from '../protocol/writer.js';
import type { KafkaSession } from '../session.js';
import type { StreamLog, StreamRecord } from '../../store/store.js';

const EMPTY = Buffer.alloc(0);

interface PartitionRequest {
  readonly index: number;
  readonly fetchOffset: number;
  readonly maxBytes: number;
}

interface TopicRequest {
  readonly name: string;
  readonly partitions: PartitionRequest[];
}

interface PartitionAnswer {
  readonly index: number;
  readonly error: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: Buffer | null;
}

interface TopicAnswer {
  readonly name: string;
  readonly partitions: PartitionAnswer[];
}

/** What one read of every requested partition gave. */
interface Gathered {
  readonly topics: TopicAnswer[];
  readonly bytes: number;
  readonly errors: boolean;
  readonly logs: StreamLog[];
}

export const fetchRecords: KafkaApi = {
  key: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 12,
  flexibleFrom: 12,
  async handle(session, request): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const body = request.body;
    body.int32(); // replica_id: consumers send -1
    const maxWaitMs = Math.max(0, Math.min(body.int32(), 300_000));
    const minBytes = body.int32();
    const maxBytes = body.int32();
    body.int8(); // isolation_level: both levels read the same (no transactions)
    if (version >= 7) {
      body.int32(); // session_id
      body.int32(); // session_epoch
    }
    const topics = body.array((r) => ({ name: r.string(), partitions: readPartitions(r, version) }));
    if (version >= 7) {
      body.array((r) => {
        r.string();
        r.array((p) => p.int32());
        r.taggedFields();
      }); // forgotten_topics_data: only meaningful within a session
    }
    if (version >= 11) body.string(); // rack_id
    body.taggedFields();

    const deadline = Date.now() + maxWaitMs;
    let gathered = await gather(session, topics, maxBytes, version);
    while (gathered.bytes < Math.max(1, minBytes) && !gathered.errors && Date.now() < deadline && !session.closed) {
      await readableOrTimeout(session, gathered.logs, deadline - Date.now());
      gathered = await gather(session, topics, maxBytes, version);
    }
    const answer = gathered;
    return (w) => writeFetch(w, version, answer.topics);
  },
};

function readPartitions(r: Reader, version: number): PartitionRequest[] {
  const partitions = r.array((p) => {
    const index = p.int32();
    if (version >= 9) p.int32(); // current_leader_epoch
    const fetchOffset = p.int64Number();
    if (version >= 12) p.int32(); // last_fetched_epoch
    if (version >= 5) p.int64Number(); // log_start_offset: a follower's
    const maxBytes = p.int32();
    p.taggedFields();
    return { index, fetchOffset, maxBytes };
  });
  r.taggedFields();
  return partitions;
}

async function gather(session: KafkaSession, topics: readonly TopicRequest[], maxBytes: number, version: number): Promise<Gathered> {
  let budget = maxBytes > 0 ? maxBytes : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let errors = false;
  const logs: StreamLog[] = [];
  const answers: TopicAnswer[] = [];
  for (const topicRequest of topics) {
    const topic = session.door.topics.find(topicRequest.name);
    const partitions: PartitionAnswer[] = [];
    for (const p of topicRequest.partitions) {
      const partition = topic?.partitions[p.index];
      if (partition === undefined) {
        errors = true;
        partitions.push(empty(p.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      if (refusal(session, 'read', partition.queue.name) !== undefined) {
        errors = true;
        partitions.push(empty(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      const log = partition.log;
      logs.push(log);
      const highWatermark = log.readableOffset;
      if (p.fetchOffset < log.firstOffset || p.fetchOffset > log.nextOffset) {
        errors = true;
        partitions.push({ ...empty(p.index, ErrorCode.OFFSET_OUT_OF_RANGE), highWatermark, logStartOffset: log.firstOffset });
        continue;
      }
      // The first partition with data always gets something (KIP-74), later ones only within the budget.
      const allowance = Math.min(p.maxBytes > 0 ? p.maxBytes : budget, bytes === 0 ? Math.max(budget, 1) : budget);
      let records: Buffer | null = null;
      if (p.fetchOffset < highWatermark && allowance > 0) {
        records = await recordSet(session, log, p.fetchOffset, allowance, version);
        if (records !== null) {
          bytes += records.length;
          budget -= records.length;
        }
      }
      partitions.push({ index: p.index, error: ErrorCode.NONE, highWatermark, logStartOffset: log.firstOffset, records });
    }
    answers.push({ name: topicRequest.name, partitions });
  }
  return { topics: answers, bytes, errors, logs };
}

/**
 * The record set from `fetchOffset`, within `allowance` bytes (at least one batch): stored Kafka batches
 * as they are (stored-batches.ts batchForFetch: a batch the fetch starts inside is cut), and runs of AMQP-written records encoded into one uncompressed batch each.
 */
async function recordSet(session: KafkaSession, log: StreamLog, fetchOffset: number, allowance: number, version: number): Promise<Buffer | null> {
  const stored = await log.read(fetchOffset, allowance);
  const parts: Buffer[] = [];
  let run: StreamRecord[] = [];
  let size = 0;
  const endRun = (): void => {
    if (run.length === 0) return;
    parts.push(encodeStoredRecords(session.broker, run));
    run = [];
  };
  for (const record of stored) {
    const count = record.batchCount ?? 1;
    if (record.offset + count <= fetchOffset) continue;
    const recordBytes = record.body.length + record.header.length;
    if (size > 0 && size + recordBytes > allowance) break;
    size += recordBytes;
    if (record.batchCount === undefined) {
      run.push(record);
    } else {
      endRun();
      parts.push(batchForFetch(record, fetchOffset, version));
    }
  }
  endRun();
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

function empty(index: number, error: number): PartitionAnswer {
  return { index, error, highWatermark: -1, logStartOffset: -1, records: null };
}

/** Resolves when one of the logs has new readable records, after `ms`, or when the connection closes. */
function readableOrTimeout(session: KafkaSession, logs: readonly StreamLog[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribers: Array<() => void> = [];
    let fired = false;
    const done = (): void => {
      if (fired) return;
      fired = true;
      clearTimeout(timer);
      for (const unsubscribe of unsubscribers) unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    for (const log of new Set(logs)) unsubscribers.push(log.onReadable(done));
    unsubscribers.push(session.onClose(done));
  });
}

function writeFetch(w: Writer, version: number, topics: readonly TopicAnswer[]): void {
  w.int32(0); // throttle_time_ms
  if (version >= 7) {
    w.int16(ErrorCode.NONE);
    w.int32(0); // session_id: no session (KIP-227)
  }
  w.array(topics, (tw, topic) => {
    tw.string(topic.name);
    tw.array(topic.partitions, (pw, p) => {
      pw.int32(p.index).int16(p.error).int64Number(p.highWatermark);
      pw.int64Number(p.highWatermark); // last_stable_offset
      if (version >= 5) pw.int64Number(p.logStartOffset);
      pw.arrayLength(0); // aborted_transactions
      if (version >= 11) pw.int32(-1); // preferred_read_replica
      pw.bytes(p.records ?? EMPTY); // never null: librdkafka reads a null record set as a protocol error
      pw.taggedFields();
    });
    tw.taggedFields();
  });
  w.taggedFields();
}
