/** Waiting for several durability barriers at once (what a publisher confirm waits for). */
import type { DurabilityBarrier } from '../broker/durability.js';

export type { DurabilityBarrier } from '../broker/durability.js';

/** The barriers touched since the last wait began; waiting means waiting for all of them. */
export class BarrierSet {
  private readonly extra: DurabilityBarrier[] = [];

  constructor(private readonly always: DurabilityBarrier) {}

  /** A publish also reached this barrier (a no-op for the one always waited for, or one already in). */
  join(barrier: DurabilityBarrier): void {
    if (barrier !== this.always && !this.extra.includes(barrier)) this.extra.push(barrier);
  }

  /** Waits for everything joined so far (and the default barrier); starts a fresh set for what follows. */
  waitAll(callback: (lost: boolean) => void): void {
    if (this.extra.length === 0) return this.always.whenDurable((lost) => callback(lost === true));
    const barriers = [this.always, ...this.extra.splice(0)];
    let pending = barriers.length;
    let anyLost = false;
    const one = (lost?: boolean): void => {
      if (lost === true) anyLost = true;
      if (--pending === 0) callback(anyLost);
    };
    for (const barrier of barriers) barrier.whenDurable(one);
  }
}
