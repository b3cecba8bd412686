import type { FileSystem } from './fs.js';
import type { DurableCallback, SyncPolicy } from './store.js';
import { StoreFailedError } from './errors.js';

/** What the committer needs from the store: push buffered bytes to the OS, and list files to sync. */
export interface CommitHost {
  /** Writes every buffered byte to its file. Throws on I/O failure. */
  flush(): void;
  /**
   * File descriptors written since the last `takeDirty`; the host remembers them as one more round in
   * flight (rounds are settled oldest first, see `synced`).
   */
  takeDirty(): number[];
  /** The sync of the oldest round in flight completed (and of every round before it). */
  synced(): void;
}

/** A round of fdatasync calls and the callbacks it makes durable. */
interface Round {
  waiters: DurableCallback[];
  done: boolean;
}

/**
 * How many fdatasync rounds may run at once. One round in flight made every publish that arrived during a
 * sync wait for that sync to end, for the event loop to see it, and then for a whole second sync: about
 * 1.5 sync latencies on average, plus two thread wake-ups, which on a busy machine (the thread pool
 * competing for the CPU) was most of a confirm's round trip. With two, the round for what arrived during
 * a sync starts at once, and its completion is still reported in order.
 */
export const DEFAULT_SYNCS_IN_FLIGHT = 2;

/**
 * Group commit: whenDurable callbacks queue up; one flush + one round of fdatasync covers all of them. Up
 * to `syncsInFlight` rounds run at once (each round's fdatasync calls start after its flush, so it covers
 * everything written before); callbacks run in round order, a round's only after every earlier round
 * completed. Any write or sync failure is final (fail closed): after fsync reports an error the kernel may
 * have dropped the dirty pages, so nothing written since can be promised durable. Every waiter, present
 * and future, gets the error.
 */
export class GroupCommitter {
  private waiters: DurableCallback[] = [];
  private scheduled = false;
  /** Rounds whose syncs were started, oldest first. */
  private rounds: Round[] = [];
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
    private readonly syncsInFlight = DEFAULT_SYNCS_IN_FLIGHT,
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
    const waiters = this.rounds.flatMap((round) => round.waiters).concat(this.waiters);
    this.rounds = [];
    this.waiters = [];
    for (const callback of waiters) callback(this.failure);
    this.resolveIdle();
    return this.failure;
  }

  /** Periodic policy's timer (and close): flush and sync whatever is dirty, without waiting callers. */
  syncDirty(): void {
    if (this.rounds.length > 0 || this.failure) return;
    this.commit([], true);
  }

  /** Resolves once no sync is in flight and nothing is queued (or the store failed). */
  idle(): Promise<void> {
    if ((this.rounds.length === 0 && !this.scheduled) || this.failure) return Promise.resolve();
    return new Promise((resolve) => this.idleResolvers.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.rounds.length >= this.syncsInFlight) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    this.scheduled = false;
    if (this.failure) return void this.fail(this.failure);
    if (this.waiters.length === 0) return this.afterCommit();
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
      // Written to the OS is all the periodic policy promises; an earlier round's sync changes nothing.
      for (const callback of waiters) callback();
      this.afterCommit();
      return;
    }
    const fds = this.host.takeDirty();
    const round: Round = { waiters, done: false };
    this.rounds.push(round);
    const started = process.hrtime.bigint();
    syncAll(this.fs, fds, (error) => {
      if (this.failure || !this.rounds.includes(round)) return;
      this.syncs++;
      this.lastSyncSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.syncSeconds += this.lastSyncSeconds;
      if (error) return void this.fail(error);
      round.done = true;
      this.settleDone();
    });
  }

  /** Reports completed rounds, oldest first, stopping at the first still in flight. */
  private settleDone(): void {
    while (this.rounds[0]?.done === true) {
      const round = this.rounds.shift()!;
      this.host.synced();
      for (const callback of round.waiters) callback();
      if (this.failure) return;
    }
    this.afterCommit();
  }

  private afterCommit(): void {
    if (this.waiters.length > 0) this.schedule();
    else if (this.rounds.length === 0 && !this.scheduled) this.resolveIdle();
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
