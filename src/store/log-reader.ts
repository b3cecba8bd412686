import type { FileSystem } from './fs.js';
import { readFully } from './fs.js';
import type { LogAppender } from './log-appender.js';
import { Msg, RECORD_PREFIX, RecordType, checkRecord } from './record.js';
import { handleIndex, handleSegment, type Segment } from './segment.js';
import { StoreFormatError, UnknownHandleError } from './errors.js';
import type { MessageHandle, StoredMessage } from './store.js';

/**
 * Reads a message back by handle: from the head's write buffer while it is still there, else with a
 * synchronous pread into a reused buffer (grown only for records bigger than it).
 */
export class LogReader {
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

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
    return this.readFromFile(segment, offset);
  }

  private readFromFile(segment: Segment, offset: number): StoredMessage {
    let buf = this.readBuffer;
    let n = readFully(this.fs, segment.fd, buf, 0, Math.min(buf.length, segment.size - offset), offset);
    const size = n >= RECORD_PREFIX ? RECORD_PREFIX + buf.readUInt32LE(4) : 0;
    if (size > n && size <= segment.size - offset) {
      buf = Buffer.allocUnsafe(size);
      n = readFully(this.fs, segment.fd, buf, 0, size, offset);
    }
    return parseMessage(buf, 0, segment, offset, n);
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
