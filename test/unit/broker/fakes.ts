import { Broker } from '../../../src/broker/broker.js';
import type { Consumer, QueueEntry, SessionOwner } from '../../../src/broker/front-door.js';
import { Message, type BasicProperties, type FieldTable } from '../../../src/broker/message.js';
import type { Queue } from '../../../src/broker/queue.js';
import type { VHost } from '../../../src/broker/vhost.js';

export function owner(name = 'conn'): SessionOwner {
  return { name };
}

export function message(exchange: string, routingKey: string, body = '', properties: BasicProperties = {}): Message {
  return new Message(exchange, routingKey, properties, Buffer.from(body));
}

export interface FakeConsumerOptions {
  noAck?: boolean;
  exclusive?: boolean;
  priority?: number;
  owner?: SessionOwner;
  /** Most deliveries awaiting ack at once, like basic.qos; 0 = unlimited. */
  prefetch?: number;
  /** Consumer.fillsBatch: dispatch fills it before moving on. */
  fillsBatch?: boolean;
}

/** A consumer that records what it gets and behaves like a prefetch-limited AMQP consumer. */
export class FakeConsumer implements Consumer {
  readonly noAck: boolean;
  readonly exclusive: boolean;
  readonly priority: number;
  readonly arguments: FieldTable = {};
  readonly owner: SessionOwner;
  readonly fillsBatch: boolean;
  prefetch: number;
  /** Everything delivered, in order. */
  readonly received: { entry: QueueEntry; queue: Queue; redelivered: boolean; body: string }[] = [];
  /** Delivered and not yet settled through this fake. */
  readonly outstanding: { entry: QueueEntry; queue: Queue }[] = [];
  readonly cancelledBy: Queue[] = [];
  paused = false;

  constructor(
    readonly tag: string,
    options: FakeConsumerOptions = {},
  ) {
    this.noAck = options.noAck ?? false;
    this.exclusive = options.exclusive ?? false;
    this.priority = options.priority ?? 0;
    this.owner = options.owner ?? owner();
    this.prefetch = options.prefetch ?? 0;
    this.fillsBatch = options.fillsBatch ?? false;
  }

  canTake(): boolean {
    if (this.paused) return false;
    return this.noAck || this.prefetch === 0 || this.outstanding.length < this.prefetch;
  }

  deliver(entry: QueueEntry, queue: Queue): void {
    this.received.push({ entry, queue, redelivered: entry.redelivered, body: entry.message.body.toString() });
    if (!this.noAck) this.outstanding.push({ entry, queue });
  }

  cancelledByBroker(queue: Queue): void {
    this.cancelledBy.push(queue);
  }

  bodies(): string[] {
    return this.received.map((r) => r.body);
  }

  /** Acks the oldest `count` outstanding deliveries, then tells their queues there is room. */
  ack(count = this.outstanding.length): void {
    const settled = this.outstanding.splice(0, count);
    for (const { entry, queue } of settled) queue.ack(entry);
    for (const queue of new Set(settled.map((s) => s.queue))) queue.resumeDispatch();
  }

  /** Hands every outstanding delivery back, as a closing channel does. */
  requeueAll(): void {
    const settled = this.outstanding.splice(0);
    for (const queue of new Set(settled.map((s) => s.queue))) {
      queue.requeue(settled.filter((s) => s.queue === queue).map((s) => s.entry));
    }
  }
}

/** A started broker and its '/' vhost; `stop` must be awaited at the end of the test. */
export async function startedVhost(options: ConstructorParameters<typeof Broker>[0] = {}): Promise<{
  broker: Broker;
  vhost: VHost;
}> {
  const broker = new Broker(options);
  await broker.start();
  return { broker, vhost: broker.getVhost('/')! };
}

export function declareQueue(vhost: VHost, name: string, who = owner(), extra: Partial<{ exclusive: boolean; autoDelete: boolean; durable: boolean; arguments: FieldTable }> = {}): Queue {
  return vhost.declareQueue(
    {
      name,
      durable: extra.durable ?? false,
      exclusive: extra.exclusive ?? false,
      autoDelete: extra.autoDelete ?? false,
      arguments: extra.arguments ?? {},
    },
    who,
  ).queue;
}

export function declareExchange(vhost: VHost, name: string, type: string, extra: Partial<{ durable: boolean; autoDelete: boolean; internal: boolean; arguments: FieldTable }> = {}): void {
  vhost.declareExchange({
    name,
    type,
    durable: extra.durable ?? false,
    autoDelete: extra.autoDelete ?? false,
    internal: extra.internal ?? false,
    arguments: extra.arguments ?? {},
  });
}

/** Names of the queues a publish reached, by draining each with basic.get. */
export function reached(vhost: VHost, queues: string[]): string[] {
  const hit: string[] = [];
  for (const name of queues) {
    const queue = vhost.getQueue(name)!;
    let entry = queue.get(true);
    if (entry !== undefined) hit.push(name);
    while (entry !== undefined) entry = queue.get(true);
  }
  return hit;
}
