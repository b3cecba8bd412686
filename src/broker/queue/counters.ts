/**
 * Cheap running totals per queue for metrics (management API, Prometheus). Plain integers bumped on the
 * hot path; readers compute rates by sampling.
 */
export class QueueCounters {
  /** Messages enqueued (routed to this queue). */
  published = 0;
  /** Hand-outs to consumers and basic.get, including redeliveries. */
  delivered = 0;
  /** Hand-outs of entries that had been delivered before. */
  redelivered = 0;
  acked = 0;
  /** Rejected or nacked without requeue. */
  rejected = 0;
  /** Put back by reject/nack with requeue, recover or a closed channel. */
  requeued = 0;
  purged = 0;
}
