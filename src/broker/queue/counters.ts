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
  /** Put back by reject/nack with requeue, recover, a closed channel or a consumer timeout. */
  requeued = 0;
  purged = 0;
  /** Ready messages that outlived their TTL. */
  expired = 0;
  /** Dropped from the head by x-max-length(-bytes) with x-overflow drop-head. */
  overflowDropped = 0;
  /** Refused at publish by x-overflow reject-publish(-dlx). */
  refused = 0;
  /** Dropped as duplicates (x-message-deduplication). */
  duplicates = 0;
  /** Returned more often than x-delivery-limit allows. */
  deliveryLimited = 0;
  /** Deliveries taken back from a consumer that did not settle them in time. */
  timedOut = 0;
  /** Messages republished to the dead-letter exchange, whatever the reason. */
  deadLettered = 0;
}
