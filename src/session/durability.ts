/**
 * Durability barriers: what a publisher confirm (or a tx.commit-ok) waits for. The broker is one (its
 * store's group commit); a queue owned by another cluster node is another (the link's acknowledgement
 * that the node made the message durable). A publish waits for every barrier it touched.
 */
export interface DurabilityBarrier {
  /**
   * `callback` runs once everything handed over before this call is durable. `lost` is true when some
   * of it may not be (a link to the owning node broke, the owner refused it): the publisher is told no.
   * A store that fails closed never calls back at all, so nothing is confirmed that may be lost.
   */
  whenDurable(callback: (lost?: boolean) => void): void;
}

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
