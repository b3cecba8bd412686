import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { writeFully } from './fs.js';
import {
  ENQUEUE_SIZE,
  FILE_HEADER_SIZE,
  MessageFlag,
  Msg,
  RECORD_PREFIX,
  REFERENCE_SIZE,
  RecordType,
  SEGMENT_MAGIC,
  messageRecordSize,
  put16,
  put32,
  sealRecord,
  writeFileHeader,
} from './record.js';
import { segmentFileName } from './recovery.js';
import { Segment, makeHandle } from './segment.js';
import type { MessageHandle } from './store.js';

/** What the appender needs of its store. */
export interface AppenderHost {
  /** A new head segment file exists (index it; the directory needs a sync). */
  segmentStarted(segment: Segment): void;
  /** A sealed segment may hold nothing live any more. */
  maybeDead(segment: Segment): void;
  /** An I/O failure is final for the store: returns the error to throw. */
  fail(error: unknown): Error;
}

/**
 * The head of the log: records are appended to a write buffer for the head segment, which goes to the
 * file when full or at group commit; a segment past `segmentBytes` is sealed and a new head started.
 * Tracks which segment files were written since the last sync began.
 */
export class LogAppender {
  private currentHead!: Segment;
  /** Write buffer for the head segment; buffer[0] sits at file offset bufferFilePos. */
  private readonly buffer: Buffer;
  private bufferUsed = 0;
  private bufferFilePos = 0;

  /** Newest message record, which a fanout may share with a small Enqueue record. */
  private lastSegment: Segment | undefined;
  private lastIndex = 0;
  private lastQueue = 0;
  /**
   * Queues that already hold the newest message (a repeat append to one of them is a new message): the
   * first lastQueueCount entries. A count, not `length = 0` and push per append, which made V8 shrink and
   * regrow the array on every message.
   */
  private readonly lastQueues: number[] = [];
  private lastQueueCount = 0;

  /**
   * The newest Message record while it is still unsealed at the end of the write buffer: its start in
   * the buffer (-1: none), end, segment and index. Its CRC is computed when anything else touches the
   * buffer (the next record, a flush, a read); until then a first delivery sets its delivered flag in
   * place instead of appending a Deliver record (FORMAT.md, flags). A consumer with credit is handed a
   * message in the same turn it is published, so most messages need no Deliver record at all.
   */
  private unsealedAt = -1;
  private unsealedEnd = 0;
  private unsealedSegment: Segment | undefined;
  private unsealedIndex = 0;

  private headDirty = false;
  private sealedUnsynced: Segment[] = [];
  /** Sealed segments of each sync round in flight, oldest round first. */
  private readonly sealedInFlight: Segment[][] = [];

  constructor(
    private readonly fs: FileSystem,
    private readonly segmentsDir: string,
    private readonly segmentBytes: number,
    writeBufferBytes: number,
    private readonly host: AppenderHost,
  ) {
    this.buffer = Buffer.allocUnsafeSlow(writeBufferBytes);
  }

  get head(): Segment {
    return this.currentHead;
  }

  appendMessage(queueId: number, header: Buffer, body: Buffer): MessageHandle {
    const size = messageRecordSize(1, header.length, body.length);
    if (this.head.size + size > this.segmentBytes && this.head.size > FILE_HEADER_SIZE) this.roll();
    const head = this.head;
    const index = head.count;
    const offset = head.size;
    const out = this.reserve(size);
    const at = out === this.buffer ? this.bufferUsed - size : 0;
    out[at + RECORD_PREFIX] = RecordType.Message;
    put32(out, at + Msg.index, index);
    put16(out, at + Msg.flags, 0);
    put16(out, at + Msg.queueCount, 1);
    put32(out, at + Msg.headerLength, header.length);
    put32(out, at + Msg.queues, queueId);
    header.copy(out, at + Msg.queues + 4);
    body.copy(out, at + Msg.queues + 4 + header.length);
    if (out === this.buffer) this.leaveUnsealed(at, size, head, index);
    else {
      sealRecord(out, at, at + size);
      this.writeDirect(out);
    }
    head.addMessage(index, offset, false);
    head.noteStream(queueId);
    this.lastSegment = head;
    this.lastIndex = index;
    this.lastQueue = queueId;
    this.lastQueues[0] = queueId;
    this.lastQueueCount = 1;
    return makeHandle(head.number, index);
  }

  /**
   * Another queue holds the newest message too (one publish, several queues): a small Enqueue record
   * instead of a copy. Only the newest message of the head segment can be shared this way (FORMAT.md:
   * an Enqueue record follows its message in the same file). False when `handle` is not that message or
   * the queue holds it already.
   */
  shareMessage(queueId: number, handle: MessageHandle): boolean {
    const head = this.head;
    if (this.lastSegment !== head || handle !== makeHandle(head.number, this.lastIndex)) return false;
    // A record already released by its first queue (a no-ack delivery inside the publish) is revived.
    if (this.holdsNewest(queueId)) return false;
    this.appendFanout(queueId);
    return true;
  }

  private holdsNewest(queueId: number): boolean {
    for (let i = 0; i < this.lastQueueCount; i++) if (this.lastQueues[i] === queueId) return true;
    return false;
  }

  private appendFanout(queueId: number): void {
    const head = this.head;
    const index = this.lastIndex;
    const out = this.reserve(ENQUEUE_SIZE);
    const at = this.bufferUsed - ENQUEUE_SIZE;
    out[at + RECORD_PREFIX] = RecordType.Enqueue;
    put32(out, at + RECORD_PREFIX + 1, queueId);
    put32(out, at + RECORD_PREFIX + 5, index);
    sealRecord(out, at, at + ENQUEUE_SIZE);
    head.addHolder(index, queueId, this.lastQueue);
    head.noteStream(queueId);
    this.lastQueues[this.lastQueueCount++] = queueId;
  }

  private leaveUnsealed(at: number, size: number, segment: Segment, index: number): void {
    this.unsealedAt = at;
    this.unsealedEnd = at + size;
    this.unsealedSegment = segment;
    this.unsealedIndex = index;
  }

  /** Computes the CRC of the newest message record if it was left unsealed. */
  sealPending(): void {
    if (this.unsealedAt < 0) return;
    sealRecord(this.buffer, this.unsealedAt, this.unsealedEnd);
    this.unsealedAt = -1;
    this.unsealedSegment = undefined;
  }

  /**
   * Sets the delivered flag of message `index` of `segment` in its own record when that record is the
   * newest and still unsealed; false otherwise (the caller appends a Deliver record).
   */
  markDeliveredInPlace(segment: Segment, index: number): boolean {
    if (this.unsealedAt < 0 || segment !== this.unsealedSegment || index !== this.unsealedIndex) return false;
    put16(this.buffer, this.unsealedAt + Msg.flags, MessageFlag.delivered);
    return true;
  }

  /** A Remove or Deliver record for message `index` of segment `number`. */
  appendReference(type: number, queueId: number, number: number, index: number): void {
    if (this.head.size + REFERENCE_SIZE > this.segmentBytes) this.roll();
    const out = this.reserve(REFERENCE_SIZE);
    const at = this.bufferUsed - REFERENCE_SIZE;
    out[at + RECORD_PREFIX] = type;
    put32(out, at + RECORD_PREFIX + 1, queueId);
    put32(out, at + RECORD_PREFIX + 5, number);
    put32(out, at + RECORD_PREFIX + 9, index);
    sealRecord(out, at, at + REFERENCE_SIZE);
    this.head.addReference(number);
  }

  /** The queue is gone: its newest message may not be shared by a later fanout append. */
  forgetQueue(queueId: number): void {
    if (this.lastQueue === queueId) this.lastSegment = undefined;
  }

  // ---- reading back what is not yet written ------------------------------------------------------

  get writeBuffer(): Buffer {
    return this.buffer;
  }

  /** Where the record at `offset` of `segment` sits in the write buffer, or -1 when it is in the file. */
  bufferedAt(segment: Segment, offset: number): number {
    if (segment !== this.head || offset < this.bufferFilePos) return -1;
    this.sealPending();
    return offset - this.bufferFilePos;
  }

  // ---- write buffer and segments -----------------------------------------------------------------

  /**
   * Room for `size` bytes at the end of the write buffer (returned as this.buffer, bufferUsed already
   * advanced), or a fresh buffer for a record bigger than the write buffer (caller writes it directly).
   */
  private reserve(size: number): Buffer {
    this.sealPending();
    if (this.bufferUsed + size > this.buffer.length) this.flushBuffer();
    this.head.size += size;
    this.headDirty = true;
    if (size > this.buffer.length) return Buffer.allocUnsafe(size);
    this.bufferUsed += size;
    return this.buffer;
  }

  private writeDirect(record: Buffer): void {
    writeFully(this.fs, this.head.fd, record, 0, record.length, this.bufferFilePos);
    this.bufferFilePos += record.length;
  }

  flushBuffer(): void {
    this.sealPending();
    if (this.bufferUsed === 0) return;
    try {
      writeFully(this.fs, this.head.fd, this.buffer, 0, this.bufferUsed, this.bufferFilePos);
    } catch (error) {
      throw this.host.fail(error);
    }
    this.bufferFilePos += this.bufferUsed;
    this.bufferUsed = 0;
  }

  /** Seals the head (its bytes go to the file now and are synced before anything later is confirmed). */
  private roll(): void {
    this.flushBuffer();
    const old = this.head;
    old.sealed = true;
    old.syncPending = true;
    old.trim();
    this.sealedUnsynced.push(old);
    this.startSegment(old.number + 1);
    this.host.maybeDead(old);
  }

  startSegment(number: number): void {
    const path = join(this.segmentsDir, segmentFileName(number));
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'wx+');
    } catch (error) {
      throw this.host.fail(error);
    }
    this.currentHead = new Segment(number, path, fd, 0);
    this.host.segmentStarted(this.currentHead);
    this.bufferFilePos = 0;
    this.bufferUsed = 0;
    this.lastSegment = undefined;
    writeFileHeader(this.reserve(FILE_HEADER_SIZE), SEGMENT_MAGIC, number);
  }

  // ---- group commit ------------------------------------------------------------------------------

  /** Adds the segment files written since the last sync began; they are in flight until `takeSynced`. */
  takeDirty(fds: number[]): void {
    for (const segment of this.sealedUnsynced) fds.push(segment.fd);
    this.sealedInFlight.push(this.sealedUnsynced);
    this.sealedUnsynced = [];
    if (this.headDirty) fds.push(this.head.fd);
    this.headDirty = false;
  }

  /** The sync of the oldest `takeDirty` in flight completed: the sealed segments it covered. */
  takeSynced(): Segment[] {
    return this.sealedInFlight.shift() ?? [];
  }
}
