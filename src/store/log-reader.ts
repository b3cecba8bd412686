import type { FileSystem } from './fs.js';
import { readFully } from './fs.js';
import type { LogAppender } from './log-appender.js';
import { Msg, RECORD_PREFIX, RecordType, checkRecord } from './record.js';
import { handleIndex, handleSegment, type Segment } from './segment.js';
import { StoreFormatError, UnknownHandleError } from './errors.js';
import type { MessageHandle, StoredMessage } from './store.js';

/**
 * Bytes one pread fetches while reads run through a segment. A queue drains its messages in append order
 * and they mostly lie back to back, so the records after the one asked for are kept (read-ahead): the next
 * reads of that queue are served from memory, one pread per run of records instead of one per message.
 */
export const READ_AHEAD_BYTES = 256 * 1024;
/** Bytes one pread fetches for a read that does not continue the previous run (random access). */
export const FIRST_READ_BYTES = 64 * 1024;

/**
 * Reads a message back by handle: from the head's write buffer while it is still there, else from the
 * read-ahead window of the last pread, else with a synchronous pread that refills the window (records
 * bigger than it get a buffer of their own and are not kept).
 */
export class LogReader {
  private readonly window = Buffer.allocUnsafe(READ_AHEAD_BYTES);
  /** Which file the window holds bytes of (the descriptor changes when compaction swaps the file). */
  private windowSegment: Segment | undefined;
  private windowFd = -1;
  /** File offset of window[0], and how many bytes the window holds. */
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly segments: ReadonlyMap<number, Segment>,
    private readonly appender: LogAppender,
  ) {}

  read(handle: MessageHandle): StoredMessage {
    const segment = this.segments.get(handleSegment(handle));
    const index = handleIndex(handle);
    if (!segment || !segment.isPresent(index)) throw new UnknownHandleError(handle);
    const offset = segment.offsets[index] ?? 0;
    const buffered = this.appender.bufferedAt(segment, offset);
    if (buffered >= 0) return parseMessage(this.appender.writeBuffer, buffered, segment, offset);
    const inWindow = this.windowedRecord(segment, index, offset);
    if (inWindow >= 0) return parseMessage(this.window, inWindow, segment, offset, this.windowLength);
    return this.readFromFile(segment, offset);
  }

  /**
   * Where in the window message `index`'s record at `offset` starts, or -1 unless the window holds all of
   * it. Compaction rewrites a segment in place (and a closed descriptor's number may come back), so the
   * record found there must also carry the same index: a message's record never changes its header or
   * body, and parseMessage checks its CRC.
   */
  private windowedRecord(segment: Segment, index: number, offset: number): number {
    if (segment !== this.windowSegment || segment.fd !== this.windowFd) return -1;
    const at = offset - this.windowStart;
    if (at < 0 || at + Msg.index + 4 > this.windowLength) return -1;
    if (at + RECORD_PREFIX + this.window.readUInt32LE(at + 4) > this.windowLength) return -1;
    if (this.window[at + RECORD_PREFIX] !== RecordType.Message) return -1;
    return this.window.readUInt32LE(at + Msg.index) === index ? at : -1;
  }

  /** The record at `offset` starts inside (or right after) the window: reads are running through the file. */
  private continuesWindow(segment: Segment, offset: number): boolean {
    return segment === this.windowSegment && offset >= this.windowStart && offset <= this.windowStart + this.windowLength;
  }

  private readFromFile(segment: Segment, offset: number): StoredMessage {
    const wanted = this.continuesWindow(segment, offset) ? READ_AHEAD_BYTES : FIRST_READ_BYTES;
    const n = readFully(this.fs, segment.fd, this.window, 0, Math.min(wanted, segment.size - offset), offset);
    this.windowSegment = segment;
    this.windowFd = segment.fd;
    this.windowStart = offset;
    this.windowLength = n;
    const size = n >= RECORD_PREFIX ? RECORD_PREFIX + this.window.readUInt32LE(4) : 0;
    if (size > n && size <= segment.size - offset) {
      const own = Buffer.allocUnsafe(size);
      return parseMessage(own, 0, segment, offset, readFully(this.fs, segment.fd, own, 0, size, offset));
    }
    return parseMessage(this.window, 0, segment, offset, n);
  }
}

/** Decodes the message record at buf[at]; copies header and body out of the (reused) buffer. */
function parseMessage(buf: Buffer, at: number, segment: Segment, offset: number, available = buf.length): StoredMessage {
  if (checkRecord(buf, at, Math.min(available, buf.length)) !== 'ok' || buf[at + RECORD_PREFIX] !== RecordType.Message) {
    throw new StoreFormatError(`${segment.path}: damaged message record at offset ${offset}`);
  }
  const end = at + RECORD_PREFIX + buf.readUInt32LE(at + 4);
  const headerStart = at + Msg.queues + 4 * buf.readUInt16LE(at + Msg.queueCount);
  const headerLength = buf.readUInt32LE(at + Msg.headerLength);
  const copy = Buffer.allocUnsafe(end - headerStart);
  buf.copy(copy, 0, headerStart, end);
  return { header: copy.subarray(0, headerLength), body: copy.subarray(headerLength) };
}
