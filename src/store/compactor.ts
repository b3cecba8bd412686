import type { FileSystem } from './fs.js';
import { readFully, writeFully } from './fs.js';
import { FILE_HEADER_SIZE, Msg, MessageFlag, RECORD_PREFIX, RecordType, SEGMENT_MAGIC, checkRecord, fileHeader, messageRecordSize, recordSize, sealRecord } from './record.js';
import type { Segment } from './segment.js';
import { COMPACT_SUFFIX } from './recovery.js';

export interface CompactionHost {
  readonly fs: FileSystem;
  segment(number: number): Segment | undefined;
  headNumber(): number;
  syncFd(fd: number): Promise<void>;
  syncDir(): Promise<void>;
  /** The rewritten file is durable and in place. */
  compacted(segment: Segment): void;
  /** The segment cannot be compacted (a record failed its CRC): leave it alone from now on. */
  damaged(segment: Segment, offset: number): void;
}

const CHUNK = 1 << 20;

/**
 * Rewrites one sealed segment in place (FORMAT.md, "Compaction"): live message records are copied with
 * their current holders and delivered flag, under the same index; Remove/Deliver records are kept only
 * while their target is still physically present elsewhere; everything else is dropped. The copy goes to
 * `<segment>.compact`, is synced, and atomically renamed over the original, so a crash leaves either file,
 * both complete and equivalent. Work is done in bounded steps so the event loop keeps serving.
 */
export class CompactionJob {
  private readPos = FILE_HEADER_SIZE;
  private input = Buffer.allocUnsafe(CHUNK);
  private output = Buffer.allocUnsafe(CHUNK);
  private outputUsed = 0;
  private writePos = 0;
  private readonly newOffsets: Uint32Array;
  private readonly keptTargets = new Map<number, number>();
  private readonly tmpPath: string;
  private tmpFd: number;
  private readonly startHead: number;
  private cancelled = false;

  constructor(
    private readonly host: CompactionHost,
    readonly segment: Segment,
  ) {
    segment.compacting = true;
    this.newOffsets = new Uint32Array(segment.count);
    this.startHead = host.headNumber();
    this.tmpPath = `${segment.path}${COMPACT_SUFFIX}`;
    this.tmpFd = host.fs.openSync(this.tmpPath, 'w');
    fileHeader(SEGMENT_MAGIC, segment.number).copy(this.output, 0);
    this.outputUsed = FILE_HEADER_SIZE;
  }

  /** Processes about `budget` bytes of the source. Returns true when the whole file has been copied. */
  step(budget: number): boolean {
    const end = this.segment.size;
    let processed = 0;
    while (this.readPos < end && processed < budget) {
      const n = readFully(this.host.fs, this.segment.fd, this.input, 0, Math.min(this.input.length, end - this.readPos), this.readPos);
      const used = this.copyRecords(n);
      if (used < 0) return true;
      this.readPos += used;
      processed += Math.max(used, 1);
    }
    return this.readPos >= end;
  }

  /** Copies the complete records in input[0, n). Returns bytes consumed, or -1 after damage. */
  private copyRecords(n: number): number {
    let p = 0;
    while (p + RECORD_PREFIX + 1 <= n) {
      const size = recordSize(this.input, p);
      if (p + size > n) {
        if (p === 0) this.input = Buffer.allocUnsafe(Math.max(size, this.input.length * 2));
        break;
      }
      if (checkRecord(this.input, p, n) !== 'ok') {
        this.host.damaged(this.segment, this.readPos + p);
        this.cancel();
        return -1;
      }
      this.copyRecord(p, size);
      p += size;
    }
    return p;
  }

  private copyRecord(p: number, size: number): void {
    const type = this.input[p + RECORD_PREFIX];
    if (type === RecordType.Message) this.copyMessage(p, size);
    else if (type === RecordType.Remove || type === RecordType.Deliver) this.copyReference(p, size);
    // Enqueue records are folded into the copied message's holder list.
  }

  private copyMessage(p: number, size: number): void {
    const input = this.input;
    const index = input.readUInt32LE(p + Msg.index);
    if (!this.segment.isLive(index)) return;
    const count = input.readUInt16LE(p + Msg.queueCount);
    const headerLength = input.readUInt32LE(p + Msg.headerLength);
    const holders = this.segment.holdersOf(index) ?? [input.readUInt32LE(p + Msg.queues)];
    const contentStart = p + Msg.queues + 4 * count;
    const contentLength = p + size - contentStart;
    const newSize = messageRecordSize(holders.length, 0, contentLength);
    const [out, at] = this.reserve(newSize);
    out[at + RECORD_PREFIX] = RecordType.Message;
    out.writeUInt32LE(index, at + Msg.index);
    out.writeUInt16LE(this.segment.wasDelivered(index) ? MessageFlag.delivered : 0, at + Msg.flags);
    out.writeUInt16LE(holders.length, at + Msg.queueCount);
    out.writeUInt32LE(headerLength, at + Msg.headerLength);
    for (let i = 0; i < holders.length; i++) out.writeUInt32LE(holders[i] ?? 0, at + Msg.queues + 4 * i);
    input.copy(out, at + Msg.queues + 4 * holders.length, contentStart, p + size);
    sealRecord(out, at, at + newSize);
    this.newOffsets[index] = this.fileOffsetOf(out, at);
    this.commitReserved(out, newSize);
  }

  private copyReference(p: number, size: number): void {
    const target = this.input.readUInt32LE(p + RECORD_PREFIX + 5);
    const index = this.input.readUInt32LE(p + RECORD_PREFIX + 9);
    if (target === this.segment.number) return; // folded into the copied messages' state
    if (!this.host.segment(target)?.isPresent(index)) return;
    const [out, at] = this.reserve(size);
    this.input.copy(out, at, p, p + size);
    this.keptTargets.set(target, (this.keptTargets.get(target) ?? 0) + 1);
    this.commitReserved(out, size);
  }

  /** Room for one record: in the output buffer, or a buffer of its own when it is bigger. */
  private reserve(size: number): [Buffer, number] {
    if (this.outputUsed + size > this.output.length) this.flushOutput();
    if (size > this.output.length) return [Buffer.allocUnsafe(size), 0];
    return [this.output, this.outputUsed];
  }

  private fileOffsetOf(out: Buffer, at: number): number {
    return out === this.output ? this.writePos + at : this.writePos;
  }

  private commitReserved(out: Buffer, size: number): void {
    if (out === this.output) {
      this.outputUsed += size;
      return;
    }
    writeFully(this.host.fs, this.tmpFd, out, 0, size, this.writePos);
    this.writePos += size;
  }

  private flushOutput(): void {
    writeFully(this.host.fs, this.tmpFd, this.output, 0, this.outputUsed, this.writePos);
    this.writePos += this.outputUsed;
    this.outputUsed = 0;
  }

  /** Makes the copy durable, puts it in place of the original and switches reads over to it. */
  async finish(): Promise<void> {
    if (this.cancelled) return;
    this.flushOutput();
    try {
      await this.host.syncFd(this.tmpFd);
    } catch (error) {
      // cancel() (store closing) closed the file under the sync: EBADF is the cancellation, not a failure.
      if (this.cancelled) return;
      throw error;
    }
    if (this.cancelled) return;
    const fs = this.host.fs;
    fs.closeSync(this.tmpFd);
    this.tmpFd = -1;
    fs.renameSync(this.tmpPath, this.segment.path);
    const newFd = fs.openSync(this.segment.path, 'r');
    this.switchOver(newFd);
    await this.host.syncDir();
    this.segment.compactedAtHead = this.startHead;
    this.segment.compacting = false;
    this.host.compacted(this.segment);
  }

  private switchOver(newFd: number): void {
    const segment = this.segment;
    const oldFd = segment.fd;
    for (let index = 0; index < this.newOffsets.length; index++) {
      const offset = this.newOffsets[index] ?? 0;
      if (offset !== 0) segment.offsets[index] = offset;
      else segment.forget(index);
    }
    segment.refTargets.clear();
    for (const [target, n] of this.keptTargets) segment.refTargets.set(target, n);
    segment.fd = newFd;
    segment.size = this.writePos;
    this.host.fs.closeSync(oldFd);
  }

  /** Abandons the job (store closing, or damage): the original file stays as it is. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.segment.compacting = false;
    if (this.tmpFd >= 0) {
      this.host.fs.closeSync(this.tmpFd);
      this.tmpFd = -1;
      this.host.fs.unlinkSync(this.tmpPath);
    }
  }
}
