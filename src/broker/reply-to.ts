import type { Consumer } from './front-door.js';
import { preconditionFailed } from './errors.js';
import { replyToAddress } from './names.js';

/**
 * Direct reply-to (https://www.rabbitmq.com/docs/direct-reply-to): consumers of the pseudo queue
 * 'amq.rabbitmq.reply-to' each get an address; a message published to that address through the default
 * exchange goes straight to that consumer, with no queue in between.
 */
export class DirectReplyTo {
  private readonly byAddress = new Map<string, Consumer>();
  private readonly byConsumer = new Map<Consumer, string>();

  get size(): number {
    return this.byAddress.size;
  }

  /** The consumer's address; registering the same consumer twice gives the same address. */
  register(consumer: Consumer): string {
    if (!consumer.noAck) throw preconditionFailed('reply consumer cannot acknowledge');
    const existing = this.byConsumer.get(consumer);
    if (existing !== undefined) return existing;
    let address = replyToAddress();
    while (this.byAddress.has(address)) address = replyToAddress();
    this.byAddress.set(address, consumer);
    this.byConsumer.set(consumer, address);
    return address;
  }

  unregister(consumer: Consumer): void {
    const address = this.byConsumer.get(consumer);
    if (address === undefined) return;
    this.byConsumer.delete(consumer);
    this.byAddress.delete(address);
  }

  lookup(address: string): Consumer | undefined {
    return this.byAddress.get(address);
  }

  clear(): void {
    this.byAddress.clear();
    this.byConsumer.clear();
  }
}
