import { PerfConnection } from './client.js';
import { fanoutExchangeName, queueDeclareOptions, queueNames, type PerfOptions } from './options.js';
import { parseAmqpUrl } from './url.js';
import type { WorkerSpec } from './worker-protocol.js';

/** Declares the run's queues (and fanout exchange) before the workers start; deletes them afterwards. */
export class Topology {
  private constructor(
    private readonly connection: PerfConnection,
    private readonly options: PerfOptions,
  ) {}

  static async declare(options: PerfOptions): Promise<Topology> {
    const connection = await PerfConnection.connect(parseAmqpUrl(options.url), { connectionName: 'perf setup' });
    const topology = new Topology(connection, options);
    try {
      await topology.declareAll();
    } catch (error) {
      await connection.close();
      throw error;
    }
    return topology;
  }

  /** Best effort: a broker that died or closed the connection leaves nothing to delete here. */
  async deleteAll(): Promise<void> {
    if (this.connection.closed) return;
    if (!this.options.keepQueues) {
      const channel = await this.connection.openChannel();
      for (const queue of queueNames(this.options)) await channel.deleteQueue(queue);
      if (this.options.fanout) await channel.deleteExchange(fanoutExchangeName(this.options));
      await channel.close();
    }
    await this.connection.close();
  }

  private async declareAll(): Promise<void> {
    const o = this.options;
    const channel = await this.connection.openChannel();
    const exchange = fanoutExchangeName(o);
    if (o.fanout) await channel.declareExchange(exchange, 'fanout', o.persistent);
    for (const queue of queueNames(o)) {
      await channel.declareQueue(queue, queueDeclareOptions(o));
      if (o.fanout) await channel.bindQueue(queue, exchange, '');
    }
    await channel.close();
  }
}

/** Splits the run's publishers and consumers into worker specs: one worker per role unless asked otherwise. */
export function planWorkers(o: PerfOptions, workersPerRole = 1): WorkerSpec[] {
  const queues = queueNames(o);
  const targets = Array.from({ length: o.publishers }, (_, i) =>
    o.fanout
      ? { exchange: fanoutExchangeName(o), routingKey: '' }
      : { exchange: '', routingKey: queues[i % queues.length]! },
  );
  const consumed = Array.from({ length: o.consumers }, (_, j) => queues[j % queues.length]!);
  const specs: WorkerSpec[] = [];
  for (const group of split(targets, workersPerRole)) specs.push({ role: 'publisher', options: o, targets: group });
  for (const group of split(consumed, workersPerRole)) specs.push({ role: 'consumer', options: o, queues: group });
  return specs;
}

function split<T>(items: T[], parts: number): T[][] {
  const groups: T[][] = [];
  const n = Math.min(parts, items.length);
  for (let g = 0; g < n; g++) groups.push(items.filter((_, i) => i % n === g));
  return groups;
}
