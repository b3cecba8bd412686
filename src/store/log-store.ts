import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { RealFileSystem, closeQuietly } from './fs.js';
import { RecordType } from './record.js';
import { Released, type Segment, handleIndex, handleSegment } from './segment.js';
import { DefinitionsLog } from './definitions.js';
import { DataDirLock } from './lock.js';
import { GroupCommitter, type CommitHost } from './commit.js';
import { recoverSegments, recoveredQueues } from './recovery.js';
import { LogAppender } from './log-appender.js';
import { LogMaintenance } from './log-maintenance.js';
import { LogReader } from './log-reader.js';
import { StoreError } from './errors.js';
import { LogStream, type LogStreamHost } from './log-stream.js';
import { FileStreamLogs } from './stream-log/file-logs.js';
import type { DefinitionKind, DurableCallback, MessageHandle, MessageStream, RecoveredState, Store, StoreStats, StoredMessage, StreamLog, SyncPolicy } from './store.js';

const NO_WAITER = (): void => undefined;

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
  /** fdatasync rounds that may run at once (commit.ts). Default 2. */
  syncsInFlight?: number;
}

export const SEGMENTS_DIR = 'segments';

/**
 * The durable store: one append-only log shared by all queues, split into numbered segment files, plus a
 * definitions journal. See FORMAT.md for the format, the sync policies and recovery. This class runs the
 * life cycle (open and recovery, timers, close) and the Store API; appending is in log-appender.ts, reading
 * back in log-reader.ts, deletion and compaction in log-maintenance.ts, group commit in commit.ts.
 */
export class LogStore implements Store, CommitHost, LogStreamHost {
  readonly persistent = true;
  readonly fs: FileSystem;
  private readonly dataDir: string;
  private readonly segmentsDir: string;
  private readonly maintenanceIntervalMs: number;
  private readonly policy: SyncPolicy;
  private readonly lock: DataDirLock;
  private readonly definitions: DefinitionsLog;
  private readonly committer: GroupCommitter;
  private readonly segments = new Map<number, Segment>();
  private readonly streams = new Map<string, LogStream>();
  private readonly appender: LogAppender;
  private readonly reader: LogReader;
  private readonly maintenance: LogMaintenance;
  /** Stream logs (append-only, by offset), each in its own segment files, on the same group commit. */
  private readonly streamLogs: FileStreamLogs;
  private dirFd = -1;
  /** The data directory (the definitions journal's entry), synced after a running compaction's rename. */
  private dataDirFd = -1;
  private dirDirty = false;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private periodicTimer: NodeJS.Timeout | undefined;
  private opened = false;
  private closed = false;

  constructor(options: LogStoreOptions) {
    this.fs = options.fileSystem ?? new RealFileSystem();
    this.dataDir = options.dataDir;
    this.segmentsDir = join(options.dataDir, SEGMENTS_DIR);
    this.maintenanceIntervalMs = options.maintenanceIntervalMs ?? 100;
    this.policy = options.sync ?? { mode: 'always' };
    this.lock = new DataDirLock(options.dataDir);
    this.definitions = new DefinitionsLog(this.fs, options.dataDir);
    this.committer = new GroupCommitter(this, this.fs, this.policy, options.syncsInFlight);
    this.maintenance = new LogMaintenance(
      {
        fs: this.fs,
        segments: this.segments,
        headNumber: () => this.appender.head.number,
        active: () => !this.closed && !this.committer.error,
        directoryChanged: () => (this.dirDirty = true),
        syncFd: (fd) => this.syncFd(fd),
        syncDir: () => this.syncDir(),
        flushHead: () => this.appender.flushBuffer(),
      },
      {
        compactionThreshold: options.compactionThreshold ?? 0.5,
        compactionStepBytes: options.compactionStepBytes ?? 8 * 1024 * 1024,
      },
    );
    const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.appender = new LogAppender(this.fs, this.segmentsDir, segmentBytes, options.writeBufferBytes ?? 1024 * 1024, {
      segmentStarted: (segment) => {
        this.segments.set(segment.number, segment);
        this.dirDirty = true;
      },
      maybeDead: (segment) => this.maintenance.maybeDead(segment),
      fail: (error) => this.committer.fail(error),
    });
    this.reader = new LogReader(this.fs, this.segments, this.appender);
    this.streamLogs = new FileStreamLogs(this.fs, options.dataDir, () => this.committer.whenDurable(NO_WAITER));
  }

  /** Damage found while the store runs (compaction CRC failures). */
  get runtimeProblems(): string[] {
    return this.maintenance.runtimeProblems;
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
    for (const fd of this.streamLogs.recover(problems).truncated) await this.syncFd(fd);
    await this.definitions.rewrite(this.oldestSegmentNumber(found.newestNumber + 1), (fd) => this.syncFd(fd));
    this.dirFd = this.fs.openSync(this.segmentsDir, 'r');
    this.dataDirFd = this.fs.openSync(this.dataDir, 'r');
    this.appender.startSegment(found.newestNumber + 1);
    this.committer.syncDirty();
    await this.committer.idle();
    if (this.committer.error) throw this.committer.error;
    await this.syncDataDir();
    this.startTimers();
    const queues = recoveredQueues(this.definitions.queues(), found.lists, this.segments);
    const streams = queues.map((q) => ({ stream: this.stream(q.name), handles: q.handles, delivered: q.delivered }));
    return { definitions: this.definitions.definitionsList(), streams, problems };
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
    await this.maintenance.stop();
    await this.committer.idle();
    if (!this.committer.error) {
      this.committer.syncDirty();
      await this.committer.idle();
    }
    this.closeFiles();
    this.lock.release();
  }

  private closeFiles(): void {
    this.streams.clear();
    this.streamLogs.close();
    for (const segment of this.segments.values()) closeQuietly(this.fs, segment.fd);
    this.segments.clear();
    closeQuietly(this.fs, this.dirFd);
    this.dirFd = -1;
    closeQuietly(this.fs, this.dataDirFd);
    this.dataDirFd = -1;
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

  stream(name: string): MessageStream {
    this.assertWritable();
    let stream = this.streams.get(name);
    if (stream === undefined) {
      stream = new LogStream(this, name, this.definitions.queueId(name));
      this.streams.set(name, stream);
    }
    return stream;
  }

  streamLog(name: string): StreamLog {
    this.assertWritable();
    return this.streamLogs.get(name);
  }

  streamLogNames(): string[] {
    return this.streamLogs.names();
  }

  // ---- messages (hot path; LogStream calls these) ---------------------------------------------

  /** @internal */
  append(streamId: number, header: Buffer, body: Buffer): MessageHandle {
    this.assertWritable();
    return this.appender.appendMessage(streamId, header, body);
  }

  /** @internal */
  share(streamId: number, handle: MessageHandle): boolean {
    this.assertWritable();
    return this.appender.shareMessage(streamId, handle);
  }

  /** @internal */
  remove(streamId: number, handle: MessageHandle): void {
    this.assertWritable();
    const number = handleSegment(handle);
    const index = handleIndex(handle);
    const segment = this.segments.get(number);
    if (!segment) return;
    const released = segment.release(index, streamId);
    if (released === Released.NotHeld) return;
    this.appender.appendReference(RecordType.Remove, streamId, number, index);
    if (released === Released.Dead) this.maintenance.maybeDead(segment);
  }

  /** @internal */
  markDelivered(streamId: number, handle: MessageHandle): void {
    this.assertWritable();
    const number = handleSegment(handle);
    const index = handleIndex(handle);
    const segment = this.segments.get(number);
    if (!segment || !segment.isLive(index) || segment.wasDelivered(index)) return;
    segment.markDelivered(index);
    if (!this.appender.markDeliveredInPlace(segment, index)) this.appender.appendReference(RecordType.Deliver, streamId, number, index);
  }

  /** @internal Synchronous pread (with read-ahead) under the stream's asynchronous read. */
  readNow(handle: MessageHandle): StoredMessage {
    return this.reader.read(handle);
  }

  /**
   * @internal The stream's messages are gone: the drop is journaled (a restart ignores its records) and
   * background maintenance frees them in the segments that may hold them (release-scan.ts).
   */
  drop(stream: LogStream): void {
    this.assertWritable();
    this.streams.delete(stream.name);
    this.definitions.dropQueue(stream.id, this.appender.head.number);
    this.appender.forgetQueue(stream.id);
    this.maintenance.streamDropped(stream.id);
  }

  // ---- group commit (CommitHost) -------------------------------------------------------------------

  whenDurable(callback: DurableCallback): void {
    this.committer.whenDurable(callback);
  }

  flush(): void {
    this.definitions.flush();
    this.appender.flushBuffer();
    this.streamLogs.flush();
  }

  takeDirty(): number[] {
    const fds: number[] = [];
    this.definitions.takeDirty(fds);
    // A running compaction of the definitions journal renamed it: the data directory holds its entry.
    if (this.definitions.directoryChanged && this.dataDirFd >= 0) fds.push(this.dataDirFd);
    this.definitions.directoryChanged = false;
    this.appender.takeDirty(fds);
    this.streamLogs.takeDirty(fds);
    if (this.dirDirty && this.dirFd >= 0) fds.push(this.dirFd);
    this.dirDirty = false;
    return fds;
  }

  synced(): void {
    this.definitions.roundSynced();
    this.streamLogs.synced();
    for (const segment of this.appender.takeSynced()) {
      segment.syncPending = false;
      this.maintenance.maybeDead(segment);
    }
  }

  syncFd(fd: number): Promise<void> {
    return new Promise((resolve, reject) => this.fs.sync(fd, (error) => (error ? reject(error) : resolve())));
  }

  private syncDir(): Promise<void> {
    return this.dirFd >= 0 ? this.syncFd(this.dirFd) : Promise.resolve();
  }

  private syncDataDir(): Promise<void> {
    const fd = this.fs.openSync(this.dataDir, 'r');
    return this.syncFd(fd).finally(() => this.fs.closeSync(fd));
  }

  // ---- maintenance ---------------------------------------------------------------------------------

  /** One round of background work: delete dead segments, advance (or start) a compaction. */
  maintain(): Promise<void> {
    return this.maintenance.maintain();
  }

  /** Runs maintenance until no deletion or compaction is left to do (tests, shutdown tools). */
  compactNow(): Promise<void> {
    return this.maintenance.compactNow();
  }

  /** Kept under its old name because a test watches it to catch a close racing a compaction's end. */
  private get compactionFinishing(): Promise<void> | undefined {
    return this.maintenance.finishing;
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
      syncSeconds: this.committer.syncSeconds,
      lastSyncSeconds: this.committer.lastSyncSeconds,
      compactions: this.maintenance.compactions,
      deletedSegments: this.maintenance.deletedSegments,
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
