import type { Consumer } from '../front-door.js';

/** What a queue needs of its consumers: ConsumerSet (round-robin) or SingleActiveConsumerSet. */
export interface ConsumerRoster {
  readonly size: number;
  readonly consumers: readonly Consumer[];
  add(consumer: Consumer): void;
  remove(consumer: Consumer): boolean;
  has(consumer: Consumer): boolean;
  drain(): Consumer[];
  /** The consumer to deliver to now, or none. */
  pick(): Consumer | undefined;
  /**
   * `preferred` (a current consumer) if the roster would as well serve it now, else what pick() gives.
   * Lets message groups keep a group with the consumer that settled its previous message.
   */
  pickPreferring(preferred: Consumer | undefined): Consumer | undefined;
}

/**
 * x-single-active-consumer: only one consumer receives messages. It keeps the role until it goes
 * (cancelled, channel closed); then the highest-priority waiting consumer takes over, the earliest
 * registered among equals. The others wait, even while the active one is at its prefetch limit.
 */
export class SingleActiveConsumerSet implements ConsumerRoster {
  pickPreferring(_preferred: Consumer | undefined): Consumer | undefined {
    return this.pick();
  }

  /** Waiting consumers by priority (highest first), then by arrival; the active one is not in here. */
  private readonly waiting: Consumer[] = [];
  private activeConsumer: Consumer | undefined;

  get size(): number {
    return this.waiting.length + (this.activeConsumer === undefined ? 0 : 1);
  }

  get active(): Consumer | undefined {
    return this.activeConsumer;
  }

  get consumers(): readonly Consumer[] {
    return this.activeConsumer === undefined ? this.waiting : [this.activeConsumer, ...this.waiting];
  }

  add(consumer: Consumer): void {
    if (this.activeConsumer === undefined) {
      this.activeConsumer = consumer;
      return;
    }
    let index = this.waiting.length;
    while (index > 0 && this.waiting[index - 1]!.priority < consumer.priority) index--;
    this.waiting.splice(index, 0, consumer);
  }

  remove(consumer: Consumer): boolean {
    if (consumer === this.activeConsumer) {
      this.activeConsumer = this.waiting.shift();
      return true;
    }
    const index = this.waiting.indexOf(consumer);
    if (index < 0) return false;
    this.waiting.splice(index, 1);
    return true;
  }

  has(consumer: Consumer): boolean {
    return consumer === this.activeConsumer || this.waiting.includes(consumer);
  }

  drain(): Consumer[] {
    const all = [...this.consumers];
    this.activeConsumer = undefined;
    this.waiting.length = 0;
    return all;
  }

  pick(): Consumer | undefined {
    const active = this.activeConsumer;
    return active !== undefined && active.canTake() ? active : undefined;
  }
}
