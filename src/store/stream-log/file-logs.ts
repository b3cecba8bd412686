import { join } from 'node:path';
import { closeQuietly, type FileSystem } from '../fs.js';
import { FileSegmentStorage, logDirName, recoverLogDir, type FileLogHost, type FileSegment } from './file-storage.js';
import { SegmentedStreamLog } from './segmented-log.js';

export const STREAMS_DIR = 'streams';

interface OpenLog {
  readonly log: SegmentedStreamLog<FileSegment>;
  readonly storage: FileSegmentStorage;
  readonly segments: () => FileSegment[];
}

/**
 * The LogStore's stream logs, one directory each under `<dataDir>/streams/`. Their writes ride on the
 * store's group commit: `flush` writes every log's buffered chunk, `takeDirty` adds their descriptors to
 * the same fdatasync round, so a confirm covers stream records like queue messages.
 */
export class FileStreamLogs implements FileLogHost {
  private readonly logs = new Map<string, OpenLog>();
  private readonly dirtyFds = new Set<number>();
  /** Descriptors of each sync round in flight, oldest round first. */
  private inFlight: Array<Set<number>> = [];
  /** Descriptors to close once no sync of them is pending. */
  private readonly released = new Set<number>();
  private rootFd = -1;
  private readonly root: string;

  constructor(
    readonly fs: FileSystem,
    dataDir: string,
    private readonly commit: () => void,
  ) {
    this.root = join(dataDir, STREAMS_DIR);
  }

  /** Opens every log found; returns descriptors truncated by recovery (the caller syncs them). */
  recover(problems: string[]): { truncated: number[]; names: string[] } {
    this.fs.mkdirSync(this.root);
    this.rootFd = this.fs.openSync(this.root, 'r');
    const truncated: number[] = [];
    for (const entry of this.fs.readdirSync(this.root).sort()) {
      const dir = join(this.root, entry);
      const found = recoverLogDir(this.fs, dir, problems);
      if (found === undefined) continue;
      truncated.push(...found.truncated);
      const storage = new FileSegmentStorage(this, dir, found.offsetsFile, () => this.logs.delete(found.name));
      this.open(found.name, storage, new SegmentedStreamLog(found.name, storage, found.log));
    }
    return { truncated, names: [...this.logs.keys()] };
  }

  get(name: string): SegmentedStreamLog<FileSegment> {
    const open = this.logs.get(name);
    if (open !== undefined) return open.log;
    const storage = FileSegmentStorage.create(this, this.rootFd, join(this.root, logDirName(name)), name, () => this.logs.delete(name));
    const log = new SegmentedStreamLog(name, storage, { segments: [], offsets: new Map() });
    this.open(name, storage, log);
    return log;
  }

  names(): string[] {
    return [...this.logs.keys()];
  }

  // ---- the store's group commit -------------------------------------------------------------------

  flush(): void {
    for (const { log } of this.logs.values()) log.flush();
  }

  takeDirty(fds: number[]): void {
    for (const fd of this.dirtyFds) fds.push(fd);
    this.inFlight.push(new Set(this.dirtyFds));
    this.dirtyFds.clear();
  }

  /** The oldest round in flight completed. */
  synced(): void {
    const done = this.inFlight.shift() ?? new Set<number>();
    for (const fd of done) if (this.released.has(fd)) this.closeIfIdle(fd);
  }

  close(): void {
    for (const { storage, segments } of this.logs.values()) storage.closeFiles(segments());
    this.logs.clear();
    for (const fd of this.released) closeQuietly(this.fs, fd);
    this.released.clear();
    this.dirtyFds.clear();
    this.inFlight = [];
    closeQuietly(this.fs, this.rootFd);
    this.rootFd = -1;
  }

  // ---- FileLogHost ---------------------------------------------------------------------------------

  dirty(fd: number): void {
    this.dirtyFds.add(fd);
  }

  release(fd: number): void {
    this.released.add(fd);
    this.closeIfIdle(fd);
  }

  requestCommit(): void {
    this.commit();
  }

  private closeIfIdle(fd: number): void {
    if (this.dirtyFds.has(fd) || this.inFlight.some((round) => round.has(fd))) return;
    this.released.delete(fd);
    closeQuietly(this.fs, fd);
  }

  private open(name: string, storage: FileSegmentStorage, log: SegmentedStreamLog<FileSegment>): void {
    this.logs.set(name, { log, storage, segments: () => log.segmentHandles() });
  }
}
