/**
 * The durability seam of x-delayed-message. A durable delayed exchange keeps its pending persistent
 * messages across a restart once the disk store implements this interface; until then the router uses
 * no store and pending messages live in memory only.
 *
 * Contract for an implementation (src/store integration):
 * - `add` is called synchronously inside the publish, for persistent messages (delivery mode 2) of
 *   durable delayed exchanges only. The write must join the same group commit as queue enqueues, so
 *   that `broker.whenDurable` (publisher confirms) also covers the delayed message.
 * - `remove` is called once the message was released (routed to its queues, which persisted it in
 *   their own right) or dropped; `dropExchange` when the exchange is deleted.
 * - `recover` is called once when a durable delayed exchange is re-created at startup; it resolves to
 *   the messages still pending, in any order, with the `id` and `dueAt` given to `add` (the broker waits
 *   for every recovery before it serves). Messages already due are released right after recovery.
 * Exchanges are identified by vhost name + exchange name (`exchange.vhost.name`, `exchange.name`).
 */
import type { Message } from '../../message.js';
import type { Exchange } from '../exchange.js';

export interface PendingDelayedMessage {
  /** Unique per exchange; increasing in acceptance order (ties in due time are released by id). */
  readonly id: number;
  /** Wall-clock due time, ms since the epoch (survives a restart, unlike a monotonic clock). */
  readonly dueAt: number;
  readonly message: Message;
}

export interface DelayedMessageStore {
  add(exchange: Exchange, pending: PendingDelayedMessage): void;
  remove(exchange: Exchange, id: number): void;
  dropExchange(exchange: Exchange): void;
  recover(exchange: Exchange): Promise<PendingDelayedMessage[]>;
}
