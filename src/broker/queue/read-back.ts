import { withDeliveryCount } from './delivery-limit.js';
import type { Entry } from './entry.js';
import { messageTtl } from './expiry-timer.js';

/**
 * A stored message read back into an entry (recovered at start, or paged in) gets back what only lived
 * in memory, derived from what the store kept:
 *
 * - its expiry: the stored header's publish time + the lower of the queue's TTL and the message's own
 *   `expiration`. Expiry is absolute (wall clock), so time spent with the broker down counts, as in
 *   RabbitMQ; a message whose TTL passed meanwhile is expired (dead-lettered) as soon as it is looked at.
 * - its delivery count: the store keeps one "delivered" bit, not a count. A message delivered before the
 *   restart and never settled counts as delivered (and returned) once: deliveryCount 1 and, in a queue
 *   with x-delivery-limit, `x-delivery-count: 1`. Returns before the last delivery are not kept.
 */
export function restoreReadBackState(entry: Entry, queueTtl: number | undefined, deliveryLimit: number | undefined): void {
  if (entry.redelivered) {
    entry.deliveryCount = 1;
    if (deliveryLimit !== undefined) entry.message = withDeliveryCount(entry.message, 1);
  }
  const expiration = entry.message.properties.expiration;
  if (queueTtl === undefined && expiration === undefined) return;
  const own = messageTtl(expiration);
  const ttl = own === undefined ? queueTtl : queueTtl === undefined ? own : Math.min(own, queueTtl);
  if (ttl !== undefined) entry.expiresAt = entry.message.publishedAt + ttl;
}
