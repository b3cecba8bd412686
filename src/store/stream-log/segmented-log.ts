import type { StreamLog, StreamLogStats, StreamRecord, StreamRetention } from '../store.js';
import { decodeChunk, encodeBatchChunk, encodeChunk, pendingRecord, stampChunk, type PendingRecord } from './chunk.js';

/** A batch appended with appendBatch, already in its chunk (written as it is by flush). */
interface PendingBatch {
  readonly chunk: Buffer;
  readonly count: number;
}
import { DEFAULT_SEGMENT_BYTES, segmentsToRemove } from './retention.js';
import { emptySegment, segmentEnd, type RecoveredLog, type SegmentState, type SegmentStorage } from './segment-storage.js';

/**
 * A stream log over a SegmentStorage: appends of one turn are buffered and written as one chunk by
 * `flush` (the store's group commit calls it); an in-memory index of every chunk (first offset, file
 * position, timestamp, count) answers reads by offset and by timestamp; retention drops whole segments.
 */
export class SegmentedStreamLog<H> implements StreamLog {
  private readonly segments: SegmentState<H>[];
  private readonly offsets: Map<string, number>;
  /** Appends of this turn, in order: records (grouped into one chunk per run) and whole batch chunks. */
  private pending: Array<PendingRecord | PendingBatch> = [];
  /** Offsets the pending appends take. */
  private pendingCount = 0;
  private pendingOffsetChanges = new Map<string, number>();
  private written: number;
  private retention: StreamRetention = {};
  private readonly listeners = new Set<() => void>();
  private notifyScheduled = false;
  private dropped = false;

  constructor(
    readonly name: string,
    private readonly storage: SegmentStorage<H>,
    recovered: RecoveredLog<H>,
  ) {
    this.segments = recovered.segments;
    this.offsets = recovered.offsets;
    if (this.segments.length === 0) this.startSegment(0);
    this.written = segmentEnd(this.segments[this.segments.length - 1]!);
  }

  get firstOffset(): number {
    for (const segment of this.segments) if (segment.chunkOffsets.length !== 0) return segment.chunkOffsets[0]!;
    return this.written;
  }

  get nextOffset(): number {
    return this.written + this.pendingCount;
  }

  get readableOffset(): number {
    return this.written;
  }

  append(header: Buffer, body: Buffer, filterValue?: string): number {
    this.assertLive();
    const offset = this.nextOffset;
    this.pending.push(pendingRecord(header, body, filterValue));
    this.pendingCount++;
    if (this.pending.length === 1 && this.pendingOffsetChanges.size === 0) this.storage.requestFlush();
    return offset;
  }

  appendBatch(batch: Buffer, count: number): number {
    this.assertLive();
    if (!Number.isSafeInteger(count) || count < 1) throw new RangeError('a stream batch holds at least one record');
    const offset = this.nextOffset;
    // Encoded (and copied) now: the chunk's first offset is known and the caller may reuse its buffer.
    this.pending.push({ chunk: encodeBatchChunk(batch, count, offset, Date.now()), count });
    this.pendingCount += count;
    if (this.pending.length === 1 && this.pendingOffsetChanges.size === 0) this.storage.requestFlush();
    return offset;
  }

  /** Writes the buffered records as one chunk (and changed consumer offsets). @internal the store's commit */
  flush(): void {
    if (this.dropped) return;
    if (this.pendingOffsetChanges.size !== 0) {
      this.storage.writeOffsets([...this.pendingOffsetChanges]);
      this.pendingOffsetChanges.clear();
    }
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingCount = 0;
    const timestamp = Date.now();
    let run: PendingRecord[] = [];
    for (const item of pending) {
      if ('chunk' in item) {
        if (run.length !== 0) this.writeChunk(encodeChunk(run, this.written, timestamp), run.length);
        run = [];
        stampChunk(item.chunk, timestamp);
        this.writeChunk(item.chunk, item.count);
      } else {
        run.push(item);
      }
    }
    if (run.length !== 0) this.writeChunk(encodeChunk(run, this.written, timestamp), run.length);
    this.scheduleNotify();
  }

  /** Writes one chunk whose first offset is `this.written` at the end of the active segment (rolling over first). */
  private writeChunk(chunk: Buffer, count: number): void {
    let active = this.segments[this.segments.length - 1]!;
    const segmentBytes = this.retention.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (active.size >= segmentBytes && active.chunkOffsets.length !== 0) {
      active = this.startSegment(this.written);
      this.applyRetention();
    }
    this.storage.writeChunk(active.handle, chunk, active.size);
    active.chunkOffsets.push(this.written);
    active.chunkPositions.push(active.size);
    active.chunkTimestamps.push(chunk.readDoubleLE(24));
    active.chunkCounts.push(count);
    active.size += chunk.length;
    this.written += count;
  }

  lastChunkOffset(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const offsets = this.segments[i]!.chunkOffsets;
      if (offsets.length !== 0) return offsets[offsets.length - 1]!;
    }
    return this.written;
  }

  offsetAt(timestamp: number): number {
    for (const segment of this.segments) {
      const n = segment.chunkTimestamps.length;
      if (n === 0 || segment.chunkTimestamps[n - 1]! < timestamp) continue;
      const i = lowerBound(segment.chunkTimestamps, timestamp);
      return segment.chunkOffsets[i]!;
    }
    return this.written;
  }

  async read(from: number, maxBytes: number): Promise<StreamRecord[]> {
    this.assertLive();
    const start = Math.max(from, this.firstOffset);
    if (start >= this.written) return [];
    const located = this.locate(start);
    if (located === undefined) return [];
    const { segment, chunk: first } = located;
    // Whole chunks from `first`, in one read, until maxBytes (at least one chunk).
    const begin = segment.chunkPositions[first]!;
    let last = first;
    while (last + 1 < segment.chunkPositions.length && segment.chunkPositions[last + 1]! - begin < maxBytes) last++;
    const end = last + 1 < segment.chunkPositions.length ? segment.chunkPositions[last + 1]! : segment.size;
    const bytes = this.storage.read(segment.handle, begin, end - begin);
    const records: StreamRecord[] = [];
    for (let i = first; i <= last; i++) {
      const at = segment.chunkPositions[i]! - begin;
      const length = (i < last ? segment.chunkPositions[i + 1]! - begin : bytes.length) - at;
      for (const record of decodeChunk(bytes.subarray(at, at + length), start)) records.push(record);
    }
    return records;
  }

  onReadable(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  configure(retention: StreamRetention): void {
    this.retention = { ...retention };
    this.applyRetention();
  }

  applyRetention(now = Date.now()): number {
    if (this.dropped) return 0;
    const figures = this.segments.map((s) => ({
      bytes: s.size,
      newest: s.chunkTimestamps.length === 0 ? undefined : s.chunkTimestamps[s.chunkTimestamps.length - 1],
    }));
    const removed = segmentsToRemove(figures, this.retention, now);
    for (const segment of this.segments.splice(0, removed)) this.storage.deleteSegment(segment.handle);
    return removed;
  }

  storeOffset(reference: string, offset: number): void {
    this.assertLive();
    if (this.offsets.get(reference) === offset) return;
    this.offsets.set(reference, offset);
    // Changes of one turn are coalesced: only the newest offset per reference is written.
    const first = this.pendingOffsetChanges.size === 0;
    this.pendingOffsetChanges.set(reference, offset);
    if (first && this.pending.length === 0) this.storage.requestFlush();
  }

  storedOffset(reference: string): number | undefined {
    return this.offsets.get(reference);
  }

  storedOffsets(): ReadonlyMap<string, number> {
    return this.offsets;
  }

  stats(): StreamLogStats {
    let bytes = 0;
    let chunks = 0;
    for (const segment of this.segments) {
      bytes += segment.size;
      chunks += segment.chunkOffsets.length;
    }
    return { segments: this.segments.length, bytes, firstOffset: this.firstOffset, nextOffset: this.nextOffset, chunks };
  }

  /** The storage handles of the live segments (the store closes their files). */
  segmentHandles(): H[] {
    return this.segments.map((s) => s.handle);
  }

  get isDropped(): boolean {
    return this.dropped;
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.pending = [];
    this.pendingCount = 0;
    this.pendingOffsetChanges.clear();
    this.listeners.clear();
    this.storage.drop(this.segments.map((segment) => segment.handle));
    this.segments.length = 0;
  }

  /** The segment and chunk index holding `offset` (or the first chunk after it, across a gap). */
  private locate(offset: number): { segment: SegmentState<H>; chunk: number } | undefined {
    for (const segment of this.segments) {
      const n = segment.chunkOffsets.length;
      if (n === 0 || offset >= segmentEnd(segment)) continue;
      // Last chunk whose first offset is <= offset; the first one when offset lies before it (a gap).
      const i = lowerBound(segment.chunkOffsets, offset + 1) - 1;
      return { segment, chunk: Math.max(0, i) };
    }
    return undefined;
  }

  private startSegment(firstOffset: number): SegmentState<H> {
    const { handle, size } = this.storage.createSegment(firstOffset);
    const segment = emptySegment(handle, firstOffset, size);
    this.segments.push(segment);
    return segment;
  }

  private scheduleNotify(): void {
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    setImmediate(() => {
      this.notifyScheduled = false;
      for (const listener of [...this.listeners]) listener();
    });
  }

  private assertLive(): void {
    if (this.dropped) throw new Error(`stream log ${this.name} was dropped`);
  }
}

/** First index whose value is >= `value` in an ascending array (its length if none). */
function lowerBound(values: readonly number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

