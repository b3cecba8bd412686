/**
 * The life of a link between two brokers, shared by shovels and federation links: each connection
 * attempt opens a source and a destination; when either end fails, both are closed (so what was in
 * flight goes back to the source) and, after a delay the link chooses, a new attempt starts. Callbacks
 * of an older attempt are ignored: every attempt is a fresh `LinkAttempt`, and `current` says whether
 * it still is the live one.
 */
import { redactUri } from '../util/uri-secrets.js';
import type { ShovelDestination, ShovelSource } from './endpoint.js';

export interface LinkHooks {
  /** Opens the ends of `attempt` (registering each with `attempt.keep` before opening it). */
  open(attempt: LinkAttempt): Promise<void>;
  /** After a failure (its reason without secrets): how long until the next attempt, or undefined for none. */
  failed(reason: string): number | undefined;
  /** The ends of an attempt were closed (after a failure or a stop). */
  closed?(): void;
}

export class LinkAttempt {
  constructor(
    private readonly runner: LinkRunner,
    readonly id: number,
  ) {}

  /** Whether this attempt is still the link's live one (no failure or stop since it began). */
  get current(): boolean {
    return this.runner.currentId === this.id;
  }

  /** Hands to an end as its failure callback: fails the link once, for this attempt only. */
  readonly fail = (error: Error): void => {
    if (this.current) void this.runner.failed(error);
  };

  keep<E extends ShovelSource | ShovelDestination>(end: E): E {
    this.runner.keep(end);
    return end;
  }
}

export class LinkRunner {
  private attemptId = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private ends: (ShovelSource | ShovelDestination)[] = [];

  constructor(private readonly hooks: LinkHooks) {}

  /** @internal LinkAttempt */
  get currentId(): number {
    return this.attemptId;
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.attemptId++;
    await this.closeEnds();
  }

  /** @internal LinkAttempt */
  keep(end: ShovelSource | ShovelDestination): void {
    this.ends.push(end);
  }

  private async connect(): Promise<void> {
    const attempt = new LinkAttempt(this, ++this.attemptId);
    try {
      await this.hooks.open(attempt);
    } catch (error) {
      if (attempt.current) await this.failed(error as Error);
    }
  }

  /** @internal LinkAttempt */
  async failed(error: Error): Promise<void> {
    this.attemptId++;
    const closing = this.closeEnds();
    if (this.stopped) return closing;
    const delay = this.hooks.failed(redactUri(error.message));
    if (delay === undefined) return closing;
    // The next attempt waits for the old ends to be closed (their unsettled messages back in the source).
    this.timer = setTimeout(() => void closing.then(() => (this.stopped ? undefined : this.connect())), delay);
    this.timer.unref();
    await closing;
  }

  private async closeEnds(): Promise<void> {
    const ends = this.ends;
    this.ends = [];
    this.hooks.closed?.();
    // The source first: no delivery may then arrive for a destination that is already closed.
    for (const end of ends.reverse()) await end.close();
  }
}
