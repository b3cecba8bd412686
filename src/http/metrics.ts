import { Counter, Gauge, Registry } from 'prom-client';
import { PushAndRecordMetrics } from './push-metrics.js';
import { ClusterMetrics } from './cluster-metrics.js';
import type { ManagementContext } from './context.js';
import type { QueueView } from '../broker/queue-view.js';
import { GLOBAL_STATS } from './rates.js';
import { diskFree } from './routes/nodes.js';
import { objectTotals } from './routes/overview.js';

type Labels = 'vhost' | 'queue';

/** Node-wide counters in GLOBAL_STATS order, under rabbitmq_prometheus's names. */
const GLOBAL_COUNTERS: readonly (readonly [name: string, help: string])[] = [
  ['rabbitmq_global_messages_received_total', 'Total number of messages received from publishers'],
  ['rabbitmq_global_messages_delivered_total', 'Total number of messages delivered to consumers (basic.get included)'],
  ['rabbitmq_global_messages_acknowledged_total', 'Total number of messages acknowledged by consumers'],
  ['rabbitmq_global_messages_redelivered_total', 'Total number of messages redelivered to consumers'],
  ['rabbitmq_global_messages_unroutable_dropped_total', 'Total number of messages published as non-mandatory into an exchange and dropped as unroutable'],
];

/**
 * Prometheus metrics in rabbitmq_prometheus's names (so existing dashboards and alerts work), read
 * from the broker on each scrape: nothing is counted per message beyond the core's own counters.
 * One Registry per instance (prom-client's global one would be shared by every server in a process).
 */
export class MetricsCollector {
  readonly registry = new Registry();
  private readonly queueGauges: Record<'ready' | 'unacked' | 'messages' | 'consumers' | 'bytes', Gauge<Labels>>;
  private readonly nodeGauges: Record<
    | 'connections' | 'channels' | 'consumers' | 'queues' | 'exchanges' | 'resident' | 'diskFree' | 'memoryAlarm' | 'diskAlarm' | 'memoryLimit'
    | 'fsyncLast',
    Gauge
  >;
  private readonly streamGauges: Record<'segments' | 'bytes' | 'first' | 'last', Gauge<Labels>>;
  private readonly streamLag: Gauge<'vhost' | 'queue' | 'consumer'>;
  private readonly storedLag: Gauge<'vhost' | 'queue' | 'reference'>;
  private readonly globals: Counter[];
  private readonly storeCounters: Record<'fsyncs' | 'fsyncSeconds', Counter>;
  private readonly cluster: ClusterMetrics | undefined;
  private readonly pushAndRecords: PushAndRecordMetrics;
  private readonly linkGauges: Record<'shovelRunning' | 'shovelTransferred' | 'federationRunning', Gauge>;

  constructor(private readonly context: ManagementContext) {
    const registers = [this.registry];
    const queueGauge = (name: string, help: string): Gauge<Labels> => new Gauge({ name, help, labelNames: ['vhost', 'queue'], registers });
    const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, registers });
    this.queueGauges = {
      ready: queueGauge('rabbitmq_queue_messages_ready', 'Messages ready to be delivered to consumers'),
      unacked: queueGauge('rabbitmq_queue_messages_unacked', 'Messages delivered to consumers but not yet acknowledged'),
      messages: queueGauge('rabbitmq_queue_messages', 'Sum of ready and unacknowledged messages'),
      consumers: queueGauge('rabbitmq_queue_consumers', 'Consumers on a queue'),
      bytes: queueGauge('rabbitmq_queue_messages_ready_bytes', 'Size in bytes of ready messages'),
    };
    this.streamGauges = {
      segments: queueGauge('warren_stream_segments', 'Segment files of a stream queue'),
      bytes: queueGauge('warren_stream_bytes', 'Bytes a stream queue keeps on disk'),
      first: queueGauge('warren_stream_first_offset', 'Offset of the oldest message a stream keeps'),
      last: queueGauge('warren_stream_last_offset', 'Offset of the newest message of a stream (-1 when empty)'),
    };
    this.streamLag = new Gauge({ name: 'warren_stream_consumer_lag', help: 'Messages a stream consumer has yet to read', labelNames: ['vhost', 'queue', 'consumer'], registers });
    this.storedLag = new Gauge({
      name: 'warren_stream_stored_offset_lag',
      help: 'Messages after a stored offset (a named stream consumer or a Kafka consumer group) not yet read',
      labelNames: ['vhost', 'queue', 'reference'],
      registers,
    });
    this.nodeGauges = {
      connections: gauge('rabbitmq_connections', 'Connections currently open'),
      channels: gauge('rabbitmq_channels', 'Channels currently open'),
      consumers: gauge('rabbitmq_consumers', 'Consumers currently connected'),
      queues: gauge('rabbitmq_queues', 'Queues available'),
      exchanges: gauge('rabbitmq_exchanges', 'Exchanges available'),
      resident: gauge('rabbitmq_process_resident_memory_bytes', 'Memory used in bytes'),
      diskFree: gauge('rabbitmq_disk_space_available_bytes', 'Disk space available in bytes'),
      memoryAlarm: gauge('rabbitmq_alarms_memory_used_watermark', 'Is 1 while the memory alarm blocks publishers'),
      diskAlarm: gauge('rabbitmq_alarms_free_disk_space_watermark', 'Is 1 while the disk alarm blocks publishers'),
      memoryLimit: gauge('rabbitmq_resident_memory_limit_bytes', 'Memory high watermark in bytes'),
      fsyncLast: gauge('warren_store_fsync_last_seconds', 'Duration of the latest fdatasync round of the message store'),
    };
    this.storeCounters = {
      fsyncs: new Counter({ name: 'warren_store_fsyncs_total', help: 'fdatasync rounds of the message store (group commits)', registers }),
      fsyncSeconds: new Counter({
        name: 'warren_store_fsync_seconds_total',
        help: 'Seconds spent in fdatasync rounds; divided by warren_store_fsyncs_total: the mean fsync latency',
        registers,
      }),
    };
    this.globals = GLOBAL_COUNTERS.map(([name, help]) => new Counter({ name, help, registers }));
    const labelled = (name: string, help: string, labelNames: string[]): Gauge => new Gauge({ name, help, labelNames, registers });
    this.linkGauges = {
      shovelRunning: labelled('warren_shovel_running', 'Is 1 while a shovel is running (state label: starting, running, terminated)', ['vhost', 'shovel', 'state']),
      shovelTransferred: labelled('warren_shovel_messages_transferred', 'Messages a shovel moved since it started', ['vhost', 'shovel']),
      federationRunning: labelled('warren_federation_link_running', 'Is 1 while a federation link is running', ['vhost', 'upstream', 'type', 'name']),
    };
    this.cluster = context.cluster === undefined ? undefined : new ClusterMetrics(context.cluster, context.nodeName, this.registry);
    this.pushAndRecords = new PushAndRecordMetrics(context, this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the broker's current state into the metrics and renders the text exposition format. */
  async scrape(): Promise<string> {
    this.collectQueues();
    this.collectNode();
    this.collectGlobals();
    this.collectLinks();
    this.pushAndRecords.collect();
    this.cluster?.collect(this.context.alarms().databaseAlarm === true);
    this.nodeGauges.diskFree.set((await diskFree(this.context.dataDir)) ?? 0);
    return this.registry.metrics();
  }

  private collectQueues(): void {
    const g = this.queueGauges;
    for (const gauge of Object.values(g)) gauge.reset(); // deleted queues must disappear
    for (const gauge of Object.values(this.streamGauges)) gauge.reset();
    this.streamLag.reset();
    this.storedLag.reset();
    for (const vhost of this.context.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) {
        const labels = { vhost: vhost.name, queue: queue.name };
        const ready = queue.readyCount();
        const unacked = queue.unackedCount();
        g.ready.set(labels, ready);
        g.unacked.set(labels, unacked);
        g.messages.set(labels, ready + unacked);
        g.consumers.set(labels, queue.consumerCount());
        g.bytes.set(labels, queue.readyBytes());
        this.collectStream(queue, labels);
      }
    }
  }

  private collectStream(queue: QueueView, labels: { vhost: string; queue: string }): void {
    const figures = queue.streamFigures?.();
    if (figures === undefined) return;
    const s = this.streamGauges;
    s.segments.set(labels, figures.segments);
    s.bytes.set(labels, figures.bytes);
    s.first.set(labels, figures.firstOffset);
    s.last.set(labels, figures.nextOffset - 1);
    for (const consumer of figures.consumers) this.streamLag.set({ ...labels, consumer: consumer.tag }, consumer.lag);
    for (const stored of figures.stored) this.storedLag.set({ ...labels, reference: stored.reference }, stored.lag);
  }

  private collectNode(): void {
    const totals = objectTotals(this.context);
    const g = this.nodeGauges;
    g.connections.set(totals['connections'] ?? 0);
    g.channels.set(totals['channels'] ?? 0);
    g.consumers.set(totals['consumers'] ?? 0);
    g.queues.set(totals['queues'] ?? 0);
    g.exchanges.set(totals['exchanges'] ?? 0);
    g.resident.set(process.memoryUsage.rss());
    const alarms = this.context.alarms();
    g.memoryAlarm.set(alarms.memoryAlarm ? 1 : 0);
    g.diskAlarm.set(alarms.diskAlarm ? 1 : 0);
    g.memoryLimit.set(alarms.memoryLimitBytes);
    const store = this.context.broker.store.stats?.();
    if (store === undefined) return;
    g.fsyncLast.set(store.lastSyncSeconds);
    this.storeCounters.fsyncs.reset();
    this.storeCounters.fsyncs.inc(store.syncs);
    this.storeCounters.fsyncSeconds.reset();
    this.storeCounters.fsyncSeconds.inc(store.syncSeconds);
  }

  private collectLinks(): void {
    const g = this.linkGauges;
    for (const gauge of Object.values(g)) gauge.reset();
    const links = this.context.links;
    if (links === undefined) return;
    for (const row of links.shovels()) {
      g.shovelRunning.set({ vhost: row.vhost, shovel: row.name, state: row.state }, row.state === 'running' ? 1 : 0);
      g.shovelTransferred.set({ vhost: row.vhost, shovel: row.name }, row.transferred);
    }
    for (const row of links.federationLinks()) {
      const labels = { vhost: row.vhost, upstream: String(row['upstream']), type: String(row['type']), name: String(row['exchange'] ?? row['queue'] ?? '') };
      g.federationRunning.set(labels, row.status === 'running' ? 1 : 0);
    }
  }

  private collectGlobals(): void {
    const totals = this.context.rates.globalTotals();
    for (let i = 0; i < GLOBAL_STATS.length; i++) {
      const counter = this.globals[i]!;
      counter.reset();
      counter.inc(totals[i] ?? 0);
    }
  }
}
