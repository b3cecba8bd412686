/**
 * Frame types of the node-to-node link (ARCHITECTURE.md "Cluster"). "Owner" is the node that owns the
 * queue named in the frame; "client" the node whose clients publish to it or consume from it.
 *
 *   Hello, Welcome, Proof   handshake (link/connection.ts)
 *   Ping                    keeps the link alive; carries nothing
 *   Enqueue   client->owner seq, vhost, queue, header, body: a message routed to the owner's queue
 *   Durable   owner->client seq: every Enqueue up to seq is durable (or refused, see Refused)
 *   Refused   owner->client seq: that Enqueue was not taken (queue full, gone, not owned here)
 *   Subscribe client->owner sub, vhost, queue, tag, noAck, exclusive, priority, credit, arguments
 *   SubscribeFailed owner->client sub, error kind, message
 *   Deliver   owner->client sub, delivery, redelivered, deliveryCount, header, body
 *   Credit    client->owner sub, n: the subscription may take n more
 *   Settle    client->owner sub, delivery, how (0 ack, 1 reject, 2 requeue)
 *   Cancel    client->owner sub
 *   Cancelled owner->client sub: the queue went away or moved (the client resubscribes elsewhere)
 *   Get       client->owner request, vhost, queue, noAck
 *   Got       owner->client request, delivery, redelivered, deliveryCount, messageCount, header, body
 *   GetEmpty  owner->client request
 *   Purge     client->owner request, vhost, queue
 *   Purged    owner->client request, count
 *   Failed    owner->client request, error kind, message
 *   Stats     owner->client JSON: the owner's queue figures (ready, unacked, consumers, bytes)
 */
export const Frame = {
  Hello: 1,
  Welcome: 2,
  Proof: 3,
  Ping: 4,
  Enqueue: 10,
  Durable: 11,
  Refused: 12,
  Subscribe: 20,
  SubscribeFailed: 21,
  Deliver: 22,
  Credit: 23,
  Settle: 24,
  Cancel: 25,
  Cancelled: 26,
  Get: 30,
  Got: 31,
  GetEmpty: 32,
  Purge: 33,
  Purged: 34,
  Failed: 35,
  Stats: 40,
} as const;

export const Settle = { Ack: 0, Reject: 1, Requeue: 2 } as const;
export type Settle = (typeof Settle)[keyof typeof Settle];
