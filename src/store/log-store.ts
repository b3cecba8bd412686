import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { RealFileSystem, readFully, writeFully } from './fs.js';
import {
  ENQUEUE_SIZE,
  FILE_HEADER_SIZE,
  Msg,
  RECORD_PREFIX,
  REFERENCE_SIZE,
  RecordType,
  SEGMENT_MAGIC,
  checkRecord,
  messageRecordSize,
  sealRecord,
  writeFileHeader,
} from './record.js';
import { Released, Segment, handleIndex, handleSegment, makeHandle } from './segment.js';
import { DefinitionsLog } from './definitions.js';
import { DataDirLock } from './lock.js';
import { GroupCommitter, type CommitHost } from './commit.js';
import { recoverSegments, segmentFileName } from './recovery.js';
import { CompactionJob, type CompactionHost } from './compactor.js';
import { StoreError, StoreFormatError, UnknownHandleError } from './errors.js';
import type {
  DefinitionKind,
  DurableCallback,
  MessageHandle,
  RecoveredQueue,
  RecoveredState,
  Store,
  StoreStats,
  StoredMessage,
  SyncPolicy,
} from './store.js';

export interface LogStoreOptions {
  dataDir: string;
  sync?: SyncPolicy;
  /** A segment is sealed once it would grow past this. Default 64 MiB. */
  segmentBytes?: number;
  /** Write buffer; bigger batches fewer write syscalls. Default 1 MiB. */
  writeBufferBytes?: number;
  /** Compact a sealed segment once this fraction of its messages is dead. Default 0.5. */
  compactionThreshold?: number;
  /** Background maintenance (segment deletion, compaction steps). 0 disables the timer. Default 100 ms. */
  maintenanceIntervalMs?: number;
  /** Bytes of segment data compaction reads per maintenance tick. Default 8 MiB. */
  compactionStepBytes?: number;
  fileSystem?: FileSystem;
}

export const SEGMENTS_DIR = 'segments';

/**
 * The durable store: one append-only log shared by all queues, split into numbered segment files, plus a
 * definitions journal. See FORMAT.md for the format, the sync policies and recovery.
 */
export class LogStore implements Store, CommitHost, CompactionHost {
  readonly persistent = true;
  readonly fs: FileSystem;
  private readonly dataDir: string;
  private readonly segmentsDir: string;
  private readonly segmentBytes: number;
  private readonly compactionThreshold: number;
  private readonly compactionStepBytes: number;
  private readonly maintenanceIntervalMs: number;
  private readonly policy: SyncPolicy;
  private readonly lock: DataDirLock;
  private readonly definitions: DefinitionsLog;
  private readonly committer: GroupCommitter;
  private readonly segments = new Map<number, Segment>();
  private head!: Segment;
  private dirFd = -1;

  /** Write buffer for the head segment; buffer[0] sits at file offset bufferFilePos. */
  private buffer: Buffer;
  private bufferUsed = 0;
  private bufferFilePos = 0;

  /** Newest message record, so that an identical fanout append becomes a small Enqueue record. */
  private lastBody: Buffer | undefined;
  private lastHeader: Buffer | undefined;
  private lastSegment: Segment | undefined;
  private lastIndex = 0;
  private lastQueue = 0;
  /** Queues that already hold the newest message (a repeat append to one of them is a new message). */
  private lastQueues: number[] = [];

  private headDirty = false;
  private dirDirty = false;
  private sealedUnsynced: Segment[] = [];
  private sealedInFlight: Segment[] = [];

  private readBuffer = Buffer.allocUnsafe(64 * 1024);
  private compaction: CompactionJob | undefined;
  private compactionFinishing: Promise<void> | undefined;
  private layoutVersion = 0;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private periodicTimer: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;
  private counters = { compactions: 0, deletedSegments: 0 };
  /** Damage found while the store runs (compaction CRC failures). */
  readonly runtimeProblems: string[] = [];

  constructor(options: LogStoreOptions) {
    this.fs = options.fileSystem ?? new RealFileSystem();
    this.dataDir = options.dataDir;
    this.segmentsDir = join(options.dataDir, SEGMENTS_DIR);
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.compactionThreshold = options.compactionThreshold ?? 0.5;
    this.compactionStepBytes = options.compactionStepBytes ?? 8 * 1024 * 1024;
    this.maintenanceIntervalMs = options.maintenanceIntervalMs ?? 100;
    this.policy = options.sync ?? { mode: 'always' };
    this.buffer = Buffer.allocUnsafeSlow(options.writeBufferBytes ?? 1024 * 1024);
    this.lock = new DataDirLock(options.dataDir);
    this.definitions = new DefinitionsLog(this.fs, options.dataDir);
    this.committer = new GroupCommitter(this, this.fs, this.policy);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------

  async open(): Promise<RecoveredState> {
    if (this.opened) throw new StoreError('store already opened');
    this.opened = true;
    this.fs.mkdirSync(this.segmentsDir);
    this.lock.acquire();
    try {
      return await this.recover();
    } catch (error) {
      this.closeFiles();
      this.lock.release();
      throw error;
    }
  }

  private async recover(): Promise<RecoveredState> {
    const problems: string[] = [];
    this.definitions.load(problems);
    const found = recoverSegments(this.fs, this.segmentsDir, this.definitions, problems);
    for (const [number, segment] of found.segments) this.segments.set(number, segment);
    for (const fd of found.truncatedFds) await this.syncFd(fd);
    await this.definitions.rewrite(this.oldestSegmentNumber(found.newestNumber + 1), (fd) => this.syncFd(fd));
    this.dirFd = this.fs.openSync(this.segmentsDir, 'r');
    this.startSegment(found.newestNumber + 1);
    this.committer.syncDirty();
    await this.committer.idle();
    if (this.committer.error) throw this.committer.error;
    await this.syncDataDir();
    this.startTimers();
    return { definitions: this.definitions.definitionsList(), queues: this.recoveredQueues(found.lists), problems };
  }

  private recoveredQueues(lists: Map<number, { items: Float64Array; length: number }>): RecoveredQueue[] {
    const queues: RecoveredQueue[] = [];
    for (const [id, name] of this.definitions.queues()) {
      const list = lists.get(id);
      const handles = new Float64Array(list?.length ?? 0);
      const delivered = new Uint8Array(handles.length);
      let n = 0;
      for (let i = 0; list && i < list.length; i++) {
        const handle = list.items[i] ?? 0;
        const segment = this.segments.get(handleSegment(handle));
        const index = handleIndex(handle);
        if (!segment?.heldBy(index, id)) continue;
        handles[n] = handle;
        delivered[n++] = segment.wasDelivered(index) ? 1 : 0;
      }
      queues.push({ id, name, handles: handles.subarray(0, n), delivered: delivered.subarray(0, n) });
    }
    return queues;
  }

  private startTimers(): void {
    if (this.maintenanceIntervalMs > 0) {
      this.maintenanceTimer = setInterval(() => void this.maintain(), this.maintenanceIntervalMs);
      this.maintenanceTimer.unref();
    }
    if (this.policy.mode === 'periodic') {
      this.periodicTimer = setInterval(() => this.committer.syncDirty(), this.policy.intervalMs);
      this.periodicTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.closed || !this.opened) return;
    this.closed = true;
    clearInterval(this.maintenanceTimer);
    clearInterval(this.periodicTimer);
    this.compaction?.cancel();
    await this.compactionFinishing?.catch(() => undefined);
    await this.committer.idle();
    if (!this.committer.error) {
      this.committer.syncDirty();
      await this.committer.idle();
    }
    this.closeFiles();
    this.lock.release();
  }

  private closeFiles(): void {
    for (const segment of this.segments.values()) closeQuietly(this.fs, segment.fd);
    this.segments.clear();
    closeQuietly(this.fs, this.dirFd);
    this.dirFd = -1;
    this.definitions.close();
  }

  // ---- definitions ---------------------------------------------------------------------------------

  putDefinition(kind: DefinitionKind, key: string, value: unknown): void {
    this.assertWritable();
    this.definitions.put(kind, key, value);
  }

  deleteDefinition(kind: DefinitionKind, key: string): void {
    this.assertWritable();
    this.definitions.delete(kind, key);
  }

  queueId(name: string): number {
    this.assertWritable();
    return this.definitions.queueId(name);
  }

  dropQueue(queueId: number, handles: Iterable<MessageHandle>): void {
    this.assertWritable();
    for (const handle of handles) {
      const segment = this.segments.get(handleSegment(handle));
      if (segment && segment.release(handleIndex(handle), queueId) === Released.Dead) this.maybeDead(segment);
    }
    this.definitions.dropQueue(queueId, this.head.number);
    if (this.lastQueue === queueId) this.lastBody = undefined;
  }

  // ---- messages (hot path) -------------------------------------------------------------------------

  append(queueId: number, header: Buffer, body: Buffer): MessageHandle {
    this.assertWritable();
    if (body === this.lastBody && this.lastSegment === this.head && this.sameHeader(header) && !this.lastQueues.includes(queueId)) {
      return this.appendFanout(queueId);
    }
    const size = messageRecordSize(1, header.length, body.length);
    if (this.head.size + size > this.segmentBytes && this.head.size > FILE_HEADER_SIZE) this.roll();
    const head = this.head;
    const index = head.count;
    const offset = head.size;
    const out = this.reserve(size);
    const at = out === this.buffer ? this.bufferUsed - size : 0;
    out[at + RECORD_PREFIX] = RecordType.Message;
    out.writeUInt32LE(index, at + Msg.index);
    out.writeUInt16LE(0, at + Msg.flags);
    out.writeUInt16LE(1, at + Msg.queueCount);
    out.writeUInt32LE(header.length, at + Msg.headerLength);
    out.writeUInt32LE(queueId, at + Msg.queues);
    header.copy(out, at + Msg.queues + 4);
    body.copy(out, at + Msg.queues + 4 + header.length);
    sealRecord(out, at, at + size);
    if (out !== this.buffer) this.writeDirect(out);
    head.addMessage(index, offset, false);
    this.lastBody = body;
    this.lastHeader = header;
    this.lastSegment = head;
    this.lastIndex = index;
    this.lastQueue = queueId;
    this.lastQueues.length = 0;
    this.lastQueues.push(queueId);
    return makeHandle(head.number, index);
  }

  private sameHeader(header: Buffer): boolean {
    const last = this.lastHeader;
    return last !== undefined && (header === last || header.equals(last));
  }

  private appendFanout(queueId: number): MessageHandle {
    const head = this.head;
    const index = this.lastIndex;
    const out = this.reserve(ENQUEUE_SIZE);
    const at = this.bufferUsed - ENQUEUE_SIZE;
    out[at + RECORD_PREFIX] = RecordType.Enqueue;
    out.writeUInt32LE(queueId, at + RECORD_PREFIX + 1);
    out.writeUInt32LE(index, at + RECORD_PREFIX + 5);
    sealRecord(out, at, at + ENQUEUE_SIZE);
    head.addHolder(index, queueId, this.lastQueue);
    this.lastQueues.push(queueId);
    return makeHandle(head.number, index);
  }

  remove(queueId: number, handle: MessageHandle): void {
    this.assertWritable();
    const number = handleSegment(handle);
    const index = handleIndex(handle);
    const segment = this.segments.get(number);
    if (!segment) return;
    const released = segment.release(index, queueId);
    if (released === Released.NotHeld) return;
    this.appendReference(RecordType.Remove, queueId, number, index);
    if (released === Released.Dead) this.maybeDead(segment);
  }

  markDelivered(queueId: number, handle: MessageHandle): void {
    this.assertWritable();
    const number = handleSegment(handle);
    const index = handleIndex(handle);
    const segment = this.segments.get(number);
    if (!segment || !segment.isLive(index) || segment.wasDelivered(index)) return;
    segment.markDelivered(index);
    this.appendReference(RecordType.Deliver, queueId, number, index);
  }

  private appendReference(type: number, queueId: number, number: number, index: number): void {
    if (this.head.size + REFERENCE_SIZE > this.segmentBytes) this.roll();
    const out = this.reserve(REFERENCE_SIZE);
    const at = this.bufferUsed - REFERENCE_SIZE;
    out[at + RECORD_PREFIX] = type;
    out.writeUInt32LE(queueId, at + RECORD_PREFIX + 1);
    out.writeUInt32LE(number, at + RECORD_PREFIX + 5);
    out.writeUInt32LE(index, at + RECORD_PREFIX + 9);
    sealRecord(out, at, at + REFERENCE_SIZE);
    this.head.addReference(number);
  }

  read(handle: MessageHandle): StoredMessage {
    const segment = this.segments.get(handleSegment(handle));
    const index = handleIndex(handle);
    if (!segment || !segment.isPresent(index)) throw new UnknownHandleError(handle);
    const offset = segment.offsets[index] ?? 0;
    if (segment === this.head && offset >= this.bufferFilePos) return parseMessage(this.buffer, offset - this.bufferFilePos, segment, offset);
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

  // ---- write buffer and segments -------------------------------------------------------------------

  /**
   * Room for `size` bytes at the end of the write buffer (returned as this.buffer, bufferUsed already
   * advanced), or a fresh buffer for a record bigger than the write buffer (caller writes it directly).
   */
  private reserve(size: number): Buffer {
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

  private flushBuffer(): void {
    if (this.bufferUsed === 0) return;
    try {
      writeFully(this.fs, this.head.fd, this.buffer, 0, this.bufferUsed, this.bufferFilePos);
    } catch (error) {
      throw this.committer.fail(error);
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
    this.maybeDead(old);
  }

  private startSegment(number: number): void {
    const path = join(this.segmentsDir, segmentFileName(number));
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'wx+');
    } catch (error) {
      throw this.committer.fail(error);
    }
    this.head = new Segment(number, path, fd, 0);
    this.segments.set(number, this.head);
    this.bufferFilePos = 0;
    this.bufferUsed = 0;
    this.lastBody = undefined;
    this.lastSegment = undefined;
    writeFileHeader(this.reserve(FILE_HEADER_SIZE), SEGMENT_MAGIC, number);
    this.dirDirty = true;
  }

  // ---- group commit (CommitHost) -------------------------------------------------------------------

  whenDurable(callback: DurableCallback): void {
    this.committer.whenDurable(callback);
  }

  flush(): void {
    this.definitions.flush();
    this.flushBuffer();
  }

  takeDirty(): number[] {
    const fds: number[] = [];
    if (this.definitions.dirty) fds.push(this.definitions.syncFd);
    this.definitions.dirty = false;
    for (const segment of this.sealedUnsynced) fds.push(segment.fd);
    this.sealedInFlight = this.sealedUnsynced;
    this.sealedUnsynced = [];
    if (this.headDirty) fds.push(this.head.fd);
    this.headDirty = false;
    if (this.dirDirty && this.dirFd >= 0) fds.push(this.dirFd);
    this.dirDirty = false;
    return fds;
  }

  synced(): void {
    for (const segment of this.sealedInFlight) {
      segment.syncPending = false;
      this.maybeDead(segment);
    }
    this.sealedInFlight = [];
  }

  // ---- maintenance: deletion and compaction (CompactionHost) ---------------------------------------

  private readonly deadCandidates = new Set<Segment>();

  private maybeDead(segment: Segment): void {
    if (segment.live === 0 && segment.sealed) this.deadCandidates.add(segment);
  }

  /** One round of background work: delete dead segments, advance (or start) a compaction. */
  async maintain(): Promise<void> {
    if (this.closed || this.committer.error) return;
    this.deleteDeadSegments();
    if (this.compactionFinishing) return;
    this.compaction ??= this.startCompaction();
    const job = this.compaction;
    if (!job || !job.step(this.compactionStepBytes)) return;
    this.compactionFinishing = job.finish().finally(() => {
      this.compaction = undefined;
      this.compactionFinishing = undefined;
    });
    await this.compactionFinishing;
  }

  /** Runs maintenance until no deletion or compaction is left to do (tests, shutdown tools). */
  async compactNow(): Promise<void> {
    for (let rounds = 0; rounds < 100_000; rounds++) {
      const before = this.layoutVersion;
      await this.maintain();
      if (!this.compaction && !this.compactionFinishing && before === this.layoutVersion) return;
    }
  }

  /** A segment may go once it holds nothing live and every Remove/Deliver record in it is obsolete. */
  private deletable(segment: Segment): boolean {
    if (segment === this.head || !segment.sealed || segment.live > 0 || segment.compacting || segment.syncPending) return false;
    for (const target of segment.refTargets.keys()) {
      if (target === segment.number) continue;
      const other = this.segments.get(target);
      if (other && other.compactedAtHead <= segment.number) return false;
    }
    return true;
  }

  private deleteDeadSegments(): void {
    for (const segment of this.deadCandidates) {
      if (segment.live > 0) this.deadCandidates.delete(segment);
      else if (this.deletable(segment)) {
        this.deadCandidates.delete(segment);
        this.deleteSegment(segment);
      }
    }
  }

  private deleteSegment(segment: Segment): void {
    this.segments.delete(segment.number);
    closeQuietly(this.fs, segment.fd);
    this.fs.unlinkSync(segment.path);
    this.dirDirty = true;
    this.layoutVersion++;
    this.counters.deletedSegments++;
  }

  private startCompaction(): CompactionJob | undefined {
    let best: Segment | undefined;
    let bestDead = 0;
    for (const segment of this.segments.values()) {
      if (segment === this.head || !segment.sealed || segment.compacting || segment.syncPending || segment.damaged) continue;
      if (segment.live === 0 && this.deletable(segment)) continue;
      const deadFraction = segment.present === 0 ? 0 : (segment.present - segment.live) / segment.present;
      const pinnedDead = segment.live === 0 && segment.layoutAtCompaction !== this.layoutVersion;
      if ((deadFraction >= this.compactionThreshold || pinnedDead) && deadFraction >= bestDead) {
        best = segment;
        bestDead = deadFraction;
      }
    }
    if (!best) return undefined;
    best.layoutAtCompaction = this.layoutVersion;
    return new CompactionJob(this, best);
  }

  segment(number: number): Segment | undefined {
    return this.segments.get(number);
  }

  headNumber(): number {
    return this.head.number;
  }

  syncFd(fd: number): Promise<void> {
    return new Promise((resolve, reject) => this.fs.sync(fd, (error) => (error ? reject(error) : resolve())));
  }

  syncDir(): Promise<void> {
    return this.dirFd >= 0 ? this.syncFd(this.dirFd) : Promise.resolve();
  }

  private syncDataDir(): Promise<void> {
    const fd = this.fs.openSync(this.dataDir, 'r');
    return this.syncFd(fd).finally(() => this.fs.closeSync(fd));
  }

  compacted(segment: Segment): void {
    this.layoutVersion++;
    segment.layoutAtCompaction = this.layoutVersion;
    this.counters.compactions++;
    this.maybeDead(segment);
    for (const other of this.segments.values()) this.maybeDead(other);
  }

  damaged(segment: Segment, offset: number): void {
    segment.damaged = true;
    this.runtimeProblems.push(`${segment.path}: record at offset ${offset} failed its CRC during compaction; segment left as is`);
  }

  // ---- misc ----------------------------------------------------------------------------------------

  freeBytes(): Promise<number> {
    return this.fs.freeBytes(this.dataDir);
  }

  stats(): StoreStats {
    let diskBytes = 0;
    let liveMessages = 0;
    for (const segment of this.segments.values()) {
      diskBytes += segment.size;
      liveMessages += segment.live;
    }
    return {
      segments: this.segments.size,
      diskBytes,
      liveMessages,
      syncs: this.committer.syncs,
      compactions: this.counters.compactions,
      deletedSegments: this.counters.deletedSegments,
    };
  }

  private oldestSegmentNumber(fallback: number): number {
    let oldest = fallback;
    for (const number of this.segments.keys()) if (number < oldest) oldest = number;
    return oldest;
  }

  private assertWritable(): void {
    if (!this.opened || this.closed) throw new StoreError('store is not open');
    const error = this.committer.error;
    if (error) throw error;
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

function closeQuietly(fs: FileSystem, fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed or never valid: nothing left to release
  }
}
