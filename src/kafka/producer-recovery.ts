/**
 * Idempotent producer state across broker restarts, kill -9 included, rebuilt from what the log holds
 * the way Kafka does it: a producer state snapshot plus a scan of the log written after it.
 *
 * - Snapshot: once a second, each partition whose log moved since its last snapshot has its producers
 *   written as one record (table `kafka.producer-state`, keyed by the stream log's name, in the door's
 *   vhost: broker/records.ts, durable with the store's group commit), with the log's next offset it
 *   covers; and once more when the door closes. Off the Produce path: the timer reads the in-memory
 *   state, a batch costs nothing extra. A snapshot is used only if the newest batch it names is in the
 *   log, by that producer (a topic deleted and declared again under the name does not inherit it).
 * - Scan: the batches after the snapshot are read back from the stream log. Every produced batch is
 *   stored byte for byte (stored-batches.ts), so its header still says producerId, producerEpoch,
 *   baseSequence and the record count. The scan is bounded (TAIL_SCAN_BYTES, read newest first in
 *   windows sized by what was read so far): if the snapshot is older than that, the snapshot's producers the scan did not see
 *   are dropped (their state may be stale, and a stale last sequence would refuse good batches), and
 *   they start afresh as new producers do.
 *
 * A partition is recovered lazily, the first time a producer without state in this run writes to it;
 * batches of producers arriving meanwhile wait for it, in order. Producers leave a partition's state when
 * retention removed their newest batch (Kafka does the same) or beyond MAX_PRODUCERS_PER_PARTITION, the
 * least recently written first.
 */
import type { Logger } from 'pino';
import type { RecordTables } from '../broker/records.js';
import type { StreamLog, StreamRecord } from '../store/store.js';
import { readBatchHeader } from './protocol/record-batch.js';
import { lastSequenceOf, rememberBatch, type PartitionProducers, type ProducerState } from './producer-state.js';

export const PRODUCER_STATE_TABLE = 'kafka.producer-state';
/** Bytes of a log's tail read back at most to rebuild its producers. */
export const TAIL_SCAN_BYTES = 16 * 1024 * 1024;
export const SNAPSHOT_INTERVAL_MS = 1000;
export const MAX_PRODUCERS_PER_PARTITION = 1000;
const READ_BYTES = 1024 * 1024;

/** A snapshot record's value: producers as [id, epoch, [[firstSequence, lastSequence, baseOffset], ...]]. */
interface SnapshotValue {
  readonly offset: number;
  readonly producers: ReadonlyArray<readonly [string, number, ReadonlyArray<readonly [number, number, number]>]>;
}

export interface RecoveryContext {
  readonly records: RecordTables;
  readonly vhost: string;
  readonly logger: Logger;
}

export class ProducerRecovery {
  /** Logs whose producers are known in this run, by name. */
  private readonly recovered = new Map<string, StreamLog>();
  private readonly pending = new Map<string, Promise<void>>();
  /** Logs whose producers are snapshotted, with the next offset their last snapshot covered. */
  private readonly snapshotted = new Map<string, { log: StreamLog; offset: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly partitions: Map<string, PartitionProducers>,
    private readonly context: RecoveryContext,
  ) {
    this.timer = setInterval(() => this.snapshotAll(), SNAPSHOT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Undefined once the log's producers are known in this run; else a promise that they are rebuilt. */
  whenRecovered(log: StreamLog): Promise<void> | undefined {
    const known = this.recovered.get(log.name);
    if (known === log) return undefined;
    // Another log of that name: the one recovered was deleted (over AMQP, say) and declared again.
    if (known !== undefined) {
      this.partitions.delete(log.name);
      this.forget(log.name);
    }
    let pending = this.pending.get(log.name);
    if (pending === undefined) {
      const done = (): void => {
        this.pending.delete(log.name);
        this.recovered.set(log.name, log);
      };
      pending = this.recover(log).then(done, (error: unknown) => {
        this.context.logger.warn({ log: log.name, err: error }, 'idempotent producer state could not be rebuilt from the log; its producers start afresh');
        done();
      });
      this.pending.set(log.name, pending);
    }
    return pending;
  }

  /** A deleted partition: its snapshot goes, and a log of the same name starts unknown. */
  forget(name: string): void {
    this.recovered.delete(name);
    this.snapshotted.delete(name);
    this.context.records.delete(this.context.vhost, PRODUCER_STATE_TABLE, name);
  }

  /** Writes the snapshot of every partition whose log moved since its last one (the timer; the door's close). */
  snapshotAll(): void {
    for (const [name, entry] of this.snapshotted) {
      try {
        const next = entry.log.nextOffset;
        if (next === entry.offset) continue;
        const producers = this.partitions.get(name) ?? new Map<bigint, ProducerState>();
        prune(producers, entry.log.firstOffset);
        // Every stored snapshot names a batch, by which a restart tells it belongs to the log (ownsSnapshot).
        if (producers.size === 0) this.context.records.delete(this.context.vhost, PRODUCER_STATE_TABLE, name);
        else this.context.records.put(this.context.vhost, PRODUCER_STATE_TABLE, name, 'partition', snapshotOf(producers, next));
        entry.offset = next;
      } catch (error) {
        this.context.logger.warn({ log: name, err: error }, 'idempotent producer snapshot not written');
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.snapshotAll();
  }

  private async recover(log: StreamLog): Promise<void> {
    const producers: PartitionProducers = new Map();
    let snapshot = this.loadSnapshot(log, producers);
    if (snapshot !== undefined && !(await ownsSnapshot(log, producers))) {
      producers.clear();
      snapshot = undefined;
    }
    const floor = Math.max(log.firstOffset, snapshot ?? 0);
    const { batches, from } = await scanTail(log, floor, TAIL_SCAN_BYTES);
    const seen = new Set<bigint>();
    for (const batch of batches) {
      const header = readBatchHeader(batch.body);
      if (header.producerId < 0n) continue;
      seen.add(header.producerId);
      rememberBatch(producers, header.producerId, header.producerEpoch, {
        firstSequence: header.baseSequence,
        lastSequence: lastSequenceOf(header.baseSequence, header.lastOffsetDelta),
        baseOffset: batch.offset,
      });
    }
    // The scan did not reach back to the snapshot: who it did not see may have written in between.
    if (snapshot !== undefined && from > snapshot) for (const id of producers.keys()) if (!seen.has(id)) producers.delete(id);
    const live = this.partitions.get(log.name);
    if (live === undefined) {
      if (producers.size > 0) this.partitions.set(log.name, producers);
    } else {
      for (const [id, state] of producers) if (!live.has(id)) live.set(id, state);
    }
    // The stored snapshot covers `snapshot`: the next pass writes one as soon as the log has moved past it.
    this.snapshotted.set(log.name, { log, offset: snapshot ?? -1 });
    this.context.logger.debug({ log: log.name, producers: producers.size, snapshot, scannedFrom: from, batches: batches.length }, 'idempotent producer state rebuilt');
  }

  /**
   * The snapshot's producers into `producers`; returns the offset it covers, or undefined without a
   * usable one. A snapshot past the log's end belongs to another log of that name (or to a tail the
   * store lost): it is not used. Batches at or past the end are not there, so they are not remembered.
   */
  private loadSnapshot(log: StreamLog, producers: PartitionProducers): number | undefined {
    const value = this.context.records.get(this.context.vhost, PRODUCER_STATE_TABLE, log.name)?.value as SnapshotValue | undefined;
    if (!validSnapshot(value) || value.offset > log.nextOffset) return undefined;
    for (const [id, epoch, recent] of value.producers) {
      const kept = recent.filter(([, , baseOffset]) => baseOffset < log.nextOffset);
      const last = kept[kept.length - 1];
      if (last === undefined) continue;
      producers.set(BigInt(id), { epoch, lastSequence: last[1], recent: kept.map(([firstSequence, lastSequence, baseOffset]) => ({ firstSequence, lastSequence, baseOffset })) });
    }
    return value.offset;
  }
}

/**
 * Whether a snapshot's producers are this log's: the newest batch they name is in the log, by that
 * producer. A log deleted and declared again under the same name leaves a snapshot that fails this.
 */
async function ownsSnapshot(log: StreamLog, producers: PartitionProducers): Promise<boolean> {
  let newest: { id: bigint; baseOffset: number; firstSequence: number } | undefined;
  for (const [id, state] of producers) {
    const batch = state.recent[state.recent.length - 1];
    if (batch !== undefined && (newest === undefined || batch.baseOffset > newest.baseOffset)) newest = { id, baseOffset: batch.baseOffset, firstSequence: batch.firstSequence };
  }
  if (newest === undefined || newest.baseOffset < log.firstOffset) return false;
  const record = (await log.read(newest.baseOffset, 1))[0];
  if (record?.offset !== newest.baseOffset || record.batchCount === undefined) return false;
  const header = readBatchHeader(record.body);
  return header.producerId === newest.id && header.baseSequence === newest.firstSequence;
}

/**
 * The batches (records with batchCount) of the log from `floor` on, at most about `budget` bytes of
 * the newest: windows are read back from the end, each older than the last, sized by the bytes per
 * offset seen so far, until the budget would be passed (a window that would pass it is tried smaller,
 * a few times) or `floor` is reached. Returns them oldest first and the offset the scan covers from.
 */
export async function scanTail(log: StreamLog, floor: number, budget: number): Promise<{ batches: StreamRecord[]; from: number }> {
  const end = log.readableOffset;
  let covered = end;
  let window = 1;
  let bytes = 0;
  let misses = 0;
  const windows: StreamRecord[][] = [];
  while (covered > floor) {
    const read = await readRange(log, Math.max(floor, covered - window), covered, windows.length === 0 ? Infinity : budget - bytes);
    if (read === undefined) {
      if (window <= 1 || ++misses > MAX_WINDOW_MISSES) break;
      window = Math.floor(window / 2);
      continue;
    }
    windows.unshift(read.batches);
    bytes += read.bytes;
    covered = Math.max(floor, read.start);
    const bytesPerOffset = Math.max(1, bytes / Math.max(1, end - covered));
    window = Math.max(1, Math.min(window * 16, Math.floor((budget - bytes) / bytesPerOffset)));
  }
  return { batches: windows.flat(), from: covered };
}

/** Tries of a smaller window after one that would have passed the budget. */
const MAX_WINDOW_MISSES = 3;

/**
 * The batches of [from, to) and their bytes, or undefined once they pass `budget`. A batch that begins
 * before `from` and reaches into the window is taken whole: `start` is then its first offset.
 */
async function readRange(log: StreamLog, from: number, to: number, budget: number): Promise<{ batches: StreamRecord[]; bytes: number; start: number } | undefined> {
  const batches: StreamRecord[] = [];
  let bytes = 0;
  let start = from;
  let at = from;
  while (at < to) {
    const records = await log.read(at, READ_BYTES);
    if (records.length === 0) break;
    for (const record of records) {
      if (record.offset >= to) return { batches, bytes, start };
      bytes += record.body.length + record.header.length;
      if (bytes > budget) return undefined;
      if (record.offset < start) start = record.offset;
      if (record.batchCount !== undefined) batches.push(record);
      at = record.offset + (record.batchCount ?? 1);
    }
  }
  return { batches, bytes, start };
}

function validSnapshot(value: SnapshotValue | undefined): value is SnapshotValue {
  return typeof value === 'object' && value !== null && Number.isSafeInteger(value.offset) && Array.isArray(value.producers);
}

function snapshotOf(producers: PartitionProducers, offset: number): SnapshotValue {
  return {
    offset,
    producers: [...producers].map(([id, state]) => [id.toString(), state.epoch, state.recent.map((b) => [b.firstSequence, b.lastSequence, b.baseOffset] as const)] as const),
  };
}

/** Drops producers whose newest batch retention removed, and the least recent beyond the cap. */
function prune(producers: PartitionProducers, firstOffset: number): void {
  const newest = (state: ProducerState): number => state.recent[state.recent.length - 1]?.baseOffset ?? -1;
  for (const [id, state] of producers) if (newest(state) < firstOffset) producers.delete(id);
  if (producers.size <= MAX_PRODUCERS_PER_PARTITION) return;
  const byAge = [...producers].sort(([, a], [, b]) => newest(a) - newest(b));
  for (const [id] of byAge.slice(0, producers.size - MAX_PRODUCERS_PER_PARTITION)) producers.delete(id);
}
