/** Waiting for several durability barriers at once (what a publisher confirm waits for). */
import type { DurabilityBarrier } from '../broker/durability.js';

export type { DurabilityBarrier } from '../broker/durability.js';

/** The barriers touched since the last wait began; waiting means waiting for all of them. */
export class BarrierSet {
  /** Barriers joined since the last wait began, with their position at the first join. */
  private extra = new Map<DurabilityBarrier, number | undefined>();

  constructor(private readonly always: DurabilityBarrier) {}

  /** A publish also reached this barrier (a no-op for the one always waited for, or one already in). */
  join(barrier: DurabilityBarrier): void {
    if (barrier !== this.always && !this.extra.has(barrier)) this.extra.set(barrier, barrier.position?.());
  }

  /** Waits for everything joined so far (and the default barrier); starts a fresh set for what follows. */
  waitAll(callback: (lost: boolean) => void): void {
    if (this.extra.size === 0) return this.always.whenDurable((lost) => callback(lost === true));
    const extra = this.extra;
    this.extra = new Map();
    let pending = extra.size + 1;
    let anyLost = false;
    const one = (lost?: boolean): void => {
      if (lost === true) anyLost = true;
      if (--pending === 0) callback(anyLost);
    };
    this.always.whenDurable(one);
    for (const [barrier, since] of extra) barrier.whenDurable(one, since);
  }
}
