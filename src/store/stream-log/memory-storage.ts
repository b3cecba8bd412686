import { SEGMENT_MAGIC, readChunkHeader } from './chunk.js';
import { SegmentedStreamLog } from './segmented-log.js';
import { emptySegment, type RecoveredLog, type SegmentState, type SegmentStorage } from './segment-storage.js';

/** One segment's bytes in memory: the chunks as written (a stand-in for the file). */
export interface MemorySegment {
  readonly firstOffset: number;
  readonly chunks: Buffer[];
  size: number;
}

/** A stream log's data kept by a MemoryImage across close and open. */
export interface MemoryLogData {
  segments: MemorySegment[];
  offsets: Map<string, number>;
}

/**
 * The memory store's stream log storage: chunks are the same encoded buffers a file would hold, so sizes,
 * segment roll-over and retention are exactly the file store's. Written chunks are "durable" at once.
 */
export class MemorySegmentStorage implements SegmentStorage<MemorySegment> {
  constructor(
    private readonly data: MemoryLogData,
    private readonly requestFlushFn: () => void,
    private readonly dropFn: () => void,
  ) {}

  createSegment(firstOffset: number): { handle: MemorySegment; size: number } {
    const segment: MemorySegment = { firstOffset, chunks: [], size: SEGMENT_MAGIC.length };
    this.data.segments.push(segment);
    return { handle: segment, size: segment.size };
  }

  writeChunk(segment: MemorySegment, chunk: Buffer): void {
    segment.chunks.push(chunk);
    segment.size += chunk.length;
  }

  read(segment: MemorySegment, position: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let at = SEGMENT_MAGIC.length;
    let copied = 0;
    for (const chunk of segment.chunks) {
      const end = at + chunk.length;
      if (end > position && at < position + length) {
        const from = Math.max(position - at, 0);
        const to = Math.min(chunk.length, position + length - at);
        copied += chunk.copy(out, copied, from, to);
      }
      at = end;
    }
    return out.subarray(0, copied);
  }

  deleteSegment(segment: MemorySegment): void {
    const i = this.data.segments.indexOf(segment);
    if (i >= 0) this.data.segments.splice(i, 1);
  }

  writeOffsets(): void {
    // The log's own map is the image's (recoverMemoryLog shares it): nothing to copy.
  }

  drop(): void {
    this.data.segments = [];
    this.data.offsets.clear();
    this.dropFn();
  }

  requestFlush(): void {
    this.requestFlushFn();
  }
}

/** Rebuilds the index of a log kept in memory (as a file store rebuilds it from chunk headers). */
export function recoverMemoryLog(data: MemoryLogData): RecoveredLog<MemorySegment> {
  const segments: SegmentState<MemorySegment>[] = data.segments.map((segment) => {
    const state = emptySegment(segment, segment.firstOffset, SEGMENT_MAGIC.length);
    for (const chunk of segment.chunks) {
      const header = readChunkHeader(chunk)!;
      state.chunkOffsets.push(header.firstOffset);
      state.chunkPositions.push(state.size);
      state.chunkTimestamps.push(header.timestamp);
      state.chunkCounts.push(header.count);
      state.size += chunk.length;
    }
    return state;
  });
  return { segments, offsets: data.offsets };
}

/** The memory store's stream logs: one per name, flushed at the end of the turn they were written in. */
export class MemoryStreamLogs {
  private readonly logs = new Map<string, SegmentedStreamLog<MemorySegment>>();
  private flushScheduled = false;

  constructor(private readonly image: Map<string, MemoryLogData>) {}

  get(name: string): SegmentedStreamLog<MemorySegment> {
    let log = this.logs.get(name);
    if (log !== undefined) return log;
    let data = this.image.get(name);
    if (data === undefined) {
      data = { segments: [], offsets: new Map() };
      this.image.set(name, data);
    }
    const storage = new MemorySegmentStorage(data, () => this.scheduleFlush(), () => {
      this.logs.delete(name);
      this.image.delete(name);
    });
    log = new SegmentedStreamLog(name, storage, recoverMemoryLog(data));
    this.logs.set(name, log);
    return log;
  }

  names(): string[] {
    return [...this.image.keys()];
  }

  /** Everything buffered is written (the memory store's whenDurable and close). */
  flushAll(): void {
    for (const log of this.logs.values()) log.flush();
  }

  /** Closed: logs are let go (the image keeps their data when the store is persistent). */
  clear(): void {
    this.flushAll();
    this.logs.clear();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flushAll();
    });
  }
}
