/**
 * Time as the group coordinator sees it: the current time and one-shot timers. Injected so that session
 * and rebalance timeouts can be driven by a test's hand instead of by waiting.
 */
export interface Clock {
  now(): number;
  /** Runs `fire` once after `ms`; the returned function cancels it (harmless after it fired). */
  after(ms: number, fire: () => void): () => void;
}

/** The real clock. Its timers do not keep the process alive (a broker's stop clears them anyway). */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** A clock that moves only when told to (tests): `advance` fires due timers in time order. */
export class ManualClock implements Clock {
  private time = 0;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; fire: () => void }>();

  now(): number {
    return this.time;
  }

  after(ms: number, fire: () => void): () => void {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fire });
    return () => this.timers.delete(id);
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its own time (earliest first). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let due: [number, { at: number; fire: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].fire();
    }
    this.time = end;
  }

  /** Timers still waiting (tests check that a closed coordinator leaves none). */
  get pending(): number {
    return this.timers.size;
  }
}
