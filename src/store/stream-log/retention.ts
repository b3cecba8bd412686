import type { StreamRetention } from '../store.js';

/** RabbitMQ's default x-stream-max-segment-size-bytes (500 MB). */
export const DEFAULT_SEGMENT_BYTES = 500_000_000;

export interface SegmentFigures {
  readonly bytes: number;
  /** Timestamp of its newest chunk; undefined for a segment without chunks. */
  readonly newest: number | undefined;
}

/**
 * How many of the oldest segments retention removes. As in RabbitMQ (osiris), only whole segments go,
 * never the active (newest) one: a segment goes while the log is over x-max-length-bytes, or when even its
 * newest chunk is older than x-max-age.
 */
export function segmentsToRemove(segments: readonly SegmentFigures[], retention: StreamRetention, now: number): number {
  let total = 0;
  for (const segment of segments) total += segment.bytes;
  let removed = 0;
  while (removed < segments.length - 1) {
    const oldest = segments[removed]!;
    const overSize = retention.maxBytes !== undefined && total > retention.maxBytes;
    const tooOld = retention.maxAgeMs !== undefined && oldest.newest !== undefined && oldest.newest < now - retention.maxAgeMs;
    if (!overSize && !tooOld) break;
    total -= oldest.bytes;
    removed++;
  }
  return removed;
}
