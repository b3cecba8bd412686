import { Publishing } from './vhost/publishing.js';

export type { BrokerLimits, ExchangeDeclare, PublishOutcome, QueueDeclare, VHostContext } from './vhost/declarations.js';

/**
 * A virtual host: its exchanges, queues and bindings, and the routing of published messages. Front
 * doors call these methods; every one is synchronous and throws BrokerError (errors.ts).
 */
export class VHost extends Publishing {
  /** Everything goes: queues closed (consumers cancelled), exchanges dropped. @internal Broker.deleteVhost */
  close(): void {
    for (const queue of [...this.queueTable.values()]) this.destroyQueue(queue);
    for (const exchange of this.exchangeTable.values()) {
      exchange.deleted = true;
      exchange.router.close?.();
    }
    this.exchangeTable.clear();
    this.ownedQueues.clear();
    this.replyTo.clear();
  }

  /** Cancels pending dispatch continuations. @internal Broker.stop */
  stopTimers(): void {
    for (const queue of this.queueTable.values()) queue.stopTimers();
    for (const exchange of this.exchangeTable.values()) exchange.router.stop?.();
  }
}
