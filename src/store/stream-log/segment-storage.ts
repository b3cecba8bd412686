/**
 * Where a stream log's bytes live: files in the data dir (file-storage.ts) or buffers in memory
 * (memory-storage.ts). Everything above this seam (chunking, the index, retention, reading) is shared by
 * both (segmented-log.ts), so the memory store keeps exactly the file store's semantics.
 */
export interface SegmentStorage<H> {
  /** A new, empty segment whose first record will have offset `firstOffset`. Returns its size (its file header). */
  createSegment(firstOffset: number): { handle: H; size: number };
  writeChunk(segment: H, chunk: Buffer, position: number): void;
  /** `length` bytes from `position`, synchronously (the page cache answers; bounded by the caller). */
  read(segment: H, position: number, length: number): Buffer;
  deleteSegment(segment: H): void;
  /** Appends changed consumer offsets (durable with the next group commit). */
  writeOffsets(changes: ReadonlyArray<readonly [string, number]>): void;
  /** Removes everything of this log (`segments`: its live ones). */
  drop(segments: readonly H[]): void;
  /** Records are buffered: the store should write them soon (its next commit). */
  requestFlush(): void;
}

/** One segment as the index sees it: where each chunk starts, its first offset, timestamp and count. */
export interface SegmentState<H> {
  readonly handle: H;
  readonly firstOffset: number;
  size: number;
  readonly chunkOffsets: number[];
  readonly chunkPositions: number[];
  readonly chunkTimestamps: number[];
  readonly chunkCounts: number[];
}

/** What a storage found on open (or an empty log). */
export interface RecoveredLog<H> {
  readonly segments: SegmentState<H>[];
  readonly offsets: Map<string, number>;
}

export function emptySegment<H>(handle: H, firstOffset: number, size: number): SegmentState<H> {
  return { handle, firstOffset, size, chunkOffsets: [], chunkPositions: [], chunkTimestamps: [], chunkCounts: [] };
}

/** Offset after the segment's last chunk (its first offset when it has none). */
export function segmentEnd<H>(segment: SegmentState<H>): number {
  const last = segment.chunkOffsets.length - 1;
  return last < 0 ? segment.firstOffset : segment.chunkOffsets[last]! + segment.chunkCounts[last]!;
}
