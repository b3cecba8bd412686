import { PerfConnection, type PerfChannel } from './client.js';
import { ConsumerLoop } from './consumer.js';
import { LatencyHistogram } from './histogram.js';
import { consumeArguments, type PerfOptions } from './options.js';
import { PublisherLoop } from './publisher.js';
import { parseAmqpUrl } from './url.js';
import type { Counters, WorkerSpec } from './worker-protocol.js';

/** The clients of one worker (publishers or consumers) and their combined numbers. */
export class WorkerRole {
  private readonly connections: PerfConnection[] = [];
  private readonly publishers: PublisherLoop[] = [];
  private readonly consumers: ConsumerLoop[] = [];
  private unfinished = 0;
  /** A connection died during the run (e.g. the broker closed it). */
  failure: Error | undefined;

  constructor(readonly spec: WorkerSpec) {}

  /** Connects every client and, for consumers, starts consuming: ready for 'go'. */
  async prepare(): Promise<void> {
    const endpoint = parseAmqpUrl(this.spec.options.url);
    const names = this.spec.role === 'publisher' ? this.spec.targets.map((t) => t.routingKey) : this.spec.queues;
    for (let i = 0; i < names.length; i++) {
      const connection = await PerfConnection.connect(endpoint, { connectionName: `perf ${this.spec.role} ${i}` });
      connection.onClosed = (error) => {
        if (error !== undefined && this.failure === undefined) this.failure = error;
      };
      this.connections.push(connection);
      const channel = await connection.openChannel();
      if (this.spec.role === 'publisher') await this.addPublisher(connection, channel, this.spec.targets[i]!);
      else await this.addConsumer(channel, this.spec.queues[i]!);
    }
  }

  go(onAllPublishersFinished: () => void): void {
    this.unfinished = this.publishers.length;
    for (const publisher of this.publishers) {
      publisher.start(() => {
        this.unfinished--;
        if (this.unfinished === 0) onAllPublishersFinished();
      });
    }
  }

  stopPublishing(): void {
    for (const publisher of this.publishers) publisher.stop();
  }

  counters(): Counters {
    const c: Counters = { published: 0, confirmed: 0, nacked: 0, consumed: 0 };
    for (const p of this.publishers) {
      c.published += p.published;
      c.confirmed += p.confirmed;
      c.nacked += p.nacked;
    }
    for (const consumer of this.consumers) c.consumed += consumer.consumed;
    return c;
  }

  /** Latency since the last call, merged over this worker's consumers. */
  takeInterval(): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const consumer of this.consumers) {
      merged.merge(consumer.interval.snapshot());
      consumer.interval.reset();
    }
    return merged;
  }

  totalLatency(): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const consumer of this.consumers) merged.merge(consumer.total.snapshot());
    return merged;
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close().catch(() => undefined)));
  }

  private async addPublisher(
    connection: PerfConnection,
    channel: PerfChannel,
    target: { exchange: string; routingKey: string },
  ): Promise<void> {
    const o: PerfOptions = this.spec.options;
    if (o.confirm > 0) await channel.confirmSelect();
    const body = Buffer.alloc(o.size, 0x61);
    const template = channel.makeTemplate(target.exchange, target.routingKey, body, {
      deliveryMode: o.persistent ? 2 : 1,
    });
    this.publishers.push(
      new PublisherLoop(connection, channel, template, {
        rate: o.rate,
        confirmMax: o.confirm,
        limit: o.messagesPerPublisher,
      }),
    );
  }

  private async addConsumer(channel: PerfChannel, queue: string): Promise<void> {
    const o = this.spec.options;
    if (o.prefetch > 0 && !o.autoAck) await channel.qos(o.prefetch);
    const consumer = new ConsumerLoop(channel, o.autoAck);
    await channel.consume(queue, o.autoAck, consumer, consumeArguments(o));
    this.consumers.push(consumer);
  }
}
