/**
 * A durability barrier: what a publisher confirm (or a tx.commit-ok) waits for. The broker is one (its
 * store's group commit); a replicated store is another; a queue owned by another cluster node is a third
 * (the link's acknowledgement that the node made the message durable). A publish waits for every barrier
 * it touched (session/durability.ts).
 */
export interface DurabilityBarrier {
  /**
   * `callback` runs once everything handed over before this call is durable. `lost` is true when some
   * of it may not be (a link to the owning node broke, the owner refused it): the publisher is told no.
   * A store that fails closed never calls back at all, so nothing is confirmed that may be lost.
   * `since`: a `position()` taken when the caller's first message of this wait was handed over, so that
   * only what was handed over from there on decides `lost` (others' refusals before it are not ours).
   */
  whenDurable(callback: (lost?: boolean) => void, since?: number): void;
  /** Where the barrier's sequence stands now (just after the caller's latest message); barriers that never report losses have none. */
  position?(): number;
}
