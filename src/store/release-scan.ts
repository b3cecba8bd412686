import type { FileSystem } from './fs.js';
import { readFully } from './fs.js';
import { FILE_HEADER_SIZE, Msg, RECORD_PREFIX, RecordType } from './record.js';
import { Released, type Segment } from './segment.js';

const CHUNK = 1 << 20;
/** Bytes of a message record the scan needs: up to and including its first holder id. */
const NEEDED = Msg.queues + 4;

/**
 * Frees the messages of dropped streams in one segment file. The definitions journal already records the
 * drop (so a restart ignores those records); this only brings the in-memory live counts up to date, so
 * that dead segments are deleted and compaction sees what is dead. Records held by several streams list
 * their holders in memory; a record of one stream names it only in the file, hence the scan. It reads the
 * file in chunks of a bounded size per step, so the event loop keeps serving.
 */
export class ReleaseScan {
  private pos = FILE_HEADER_SIZE;
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private chunkStart = 0;
  private chunkLength = 0;
  /** Messages this scan found dead. */
  released = 0;

  constructor(
    private readonly fs: FileSystem,
    readonly segment: Segment,
    private readonly dropped: ReadonlySet<number>,
  ) {}

  /** Reads about `budget` bytes of the file. Returns true when the whole file has been scanned. */
  step(budget: number): boolean {
    const end = this.segment.size;
    const stop = Math.min(end, this.pos + budget);
    while (this.pos < stop) {
      if (!this.ensure(this.pos, NEEDED, end)) return true;
      const at = this.pos - this.chunkStart;
      const size = RECORD_PREFIX + this.chunk.readUInt32LE(at + 4);
      if (size <= RECORD_PREFIX || this.pos + size > end) return true; // never written by us: stop here
      if (this.chunk[at + RECORD_PREFIX] === RecordType.Message) this.visitMessage(at);
      this.pos += size;
    }
    return this.pos >= end;
  }

  private visitMessage(at: number): void {
    const index = this.chunk.readUInt32LE(at + Msg.index);
    const segment = this.segment;
    if (!segment.isLive(index)) return;
    const several = segment.holdersOf(index);
    if (several === undefined) this.releaseFrom(index, this.chunk.readUInt32LE(at + Msg.queues));
    else for (const holder of [...several]) this.releaseFrom(index, holder);
  }

  private releaseFrom(index: number, holder: number): void {
    if (this.dropped.has(holder) && this.segment.release(index, holder) === Released.Dead) this.released++;
  }

  /** Makes `chunk` hold file bytes [pos, pos + n) (or up to `end`); false when fewer than n are left. */
  private ensure(pos: number, n: number, end: number): boolean {
    if (pos >= this.chunkStart && pos + n <= this.chunkStart + this.chunkLength) return true;
    if (pos + n > end) return false;
    this.chunkStart = pos;
    this.chunkLength = readFully(this.fs, this.segment.fd, this.chunk, 0, Math.min(this.chunk.length, end - pos), pos);
    return this.chunkLength >= n;
  }
}
