import type { FileSystem } from './fs.js';
import type { DurableCallback, SyncPolicy } from './store.js';
import { StoreFailedError } from './errors.js';

/** What the committer needs from the store: push buffered bytes to the OS, and list files to sync. */
export interface CommitHost {
  /** Writes every buffered byte to its file. Throws on I/O failure. */
  flush(): void;
  /** File descriptors written since the last sync began; the host remembers them as in flight. */
  takeDirty(): number[];
  /** The sync of the last `takeDirty` set completed. */
  synced(): void;
}

/**
 * Group commit: whenDurable callbacks queue up; one flush + one round of fdatasync covers all of them; at
 * most one sync is in flight, and callbacks arriving meanwhile ride on the next one. Any write or sync
 * failure is final (fail closed): after fsync reports an error the kernel may have dropped the dirty
 * pages, so nothing written since can be promised durable. Every waiter, present and future, gets the error.
 */
export class GroupCommitter {
  private waiters: DurableCallback[] = [];
  private scheduled = false;
  private inFlight = false;
  private failure: StoreFailedError | undefined;
  private idleResolvers: Array<() => void> = [];
  syncs = 0;
  /** Time spent in fdatasync rounds, for the fsync latency metric (seconds, summed over `syncs`). */
  syncSeconds = 0;
  lastSyncSeconds = 0;

  constructor(
    private readonly host: CommitHost,
    private readonly fs: FileSystem,
    private readonly policy: SyncPolicy,
  ) {}

  get error(): StoreFailedError | undefined {
    return this.failure;
  }

  whenDurable(callback: DurableCallback): void {
    if (this.failure) {
      setImmediate(callback, this.failure);
      return;
    }
    this.waiters.push(callback);
    this.schedule();
  }

  /** Records a failure seen elsewhere (e.g. a write in append) and fails all waiters. */
  fail(cause: unknown): StoreFailedError {
    if (!this.failure) this.failure = cause instanceof StoreFailedError ? cause : new StoreFailedError(cause);
    const waiters = this.waiters;
    this.waiters = [];
    for (const callback of waiters) callback(this.failure);
    this.resolveIdle();
    return this.failure;
  }

  /** Periodic policy's timer (and close): flush and sync whatever is dirty, without waiting callers. */
  syncDirty(): void {
    if (this.inFlight || this.failure) return;
    this.commit([], true);
  }

  /** Resolves once no sync is in flight and nothing is queued (or the store failed). */
  idle(): Promise<void> {
    if ((!this.inFlight && !this.scheduled) || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.failure) return void this.fail(this.failure);
    const waiters = this.waiters;
    this.waiters = [];
    this.commit(waiters, this.policy.mode === 'always');
  };

  private commit(waiters: DurableCallback[], sync: boolean): void {
    try {
      this.host.flush();
    } catch (error) {
      this.waiters = waiters.concat(this.waiters);
      this.fail(error);
      return;
    }
    if (!sync) {
      for (const callback of waiters) callback();
      this.afterCommit();
      return;
    }
    const fds = this.host.takeDirty();
    this.inFlight = true;
    const started = process.hrtime.bigint();
    syncAll(this.fs, fds, (error) => {
      this.inFlight = false;
      this.syncs++;
      this.lastSyncSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.syncSeconds += this.lastSyncSeconds;
      if (error) {
        this.waiters = waiters.concat(this.waiters);
        this.fail(error);
        return;
      }
      this.host.synced();
      for (const callback of waiters) callback();
      this.afterCommit();
    });
  }

  private afterCommit(): void {
    if (this.waiters.length > 0) this.schedule();
    else if (!this.inFlight && !this.scheduled) this.resolveIdle();
  }

  private resolveIdle(): void {
    const resolvers = this.idleResolvers;
    this.idleResolvers = [];
    for (const resolve of resolvers) resolve();
  }
}

/** Syncs all fds in parallel (the thread pool has several threads); first error wins. */
function syncAll(fs: FileSystem, fds: number[], done: (error: Error | null) => void): void {
  let left = fds.length;
  if (left === 0) return void setImmediate(done, null);
  let failed = false;
  for (const fd of fds) {
    fs.sync(fd, (error) => {
      if (failed) return;
      if (error) {
        failed = true;
        done(error);
      } else if (--left === 0) done(null);
    });
  }
}
