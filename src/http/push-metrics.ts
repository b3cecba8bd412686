import { Gauge, type Registry } from 'prom-client';
import type { ManagementContext } from './context.js';

type PushLabels = 'vhost' | 'queue';

/** The fields of GET /api/push these metrics read (src/push PushQueueState). */
interface PushStateFields {
  vhost: string;
  queue: string;
  in_flight?: number;
  concurrency?: number;
  delivered?: number;
  failed_attempts?: number;
  dead_lettered?: number;
  last_status?: number | null;
  last_latency_ms?: number | null;
  mean_latency_ms?: number | null;
  paused_until?: number | null;
  error?: string;
}

/**
 * Push queues' delivery state on /metrics, one series per push queue (labels vhost, queue), and the
 * record tables' counts per tag (warren/jobs: jobs per state, labels vhost, table, tag). Read at
 * scrape time from the same views as the management API.
 */
export class PushAndRecordMetrics {
  private readonly push: Record<'inFlight' | 'concurrency' | 'delivered' | 'failed' | 'dead' | 'status' | 'lastLatency' | 'meanLatency' | 'held' | 'refused', Gauge<PushLabels>>;
  private readonly records: Gauge<'vhost' | 'table' | 'tag'>;

  constructor(
    private readonly context: ManagementContext,
    registry: Registry,
  ) {
    const registers = [registry];
    const gauge = (name: string, help: string): Gauge<PushLabels> => new Gauge({ name, help, labelNames: ['vhost', 'queue'], registers });
    this.push = {
      inFlight: gauge('warren_push_in_flight', 'Requests a push queue has open to its endpoint'),
      concurrency: gauge('warren_push_concurrency', 'Most requests a push queue may have open at once'),
      delivered: gauge('warren_push_delivered', 'Messages a push queue delivered (2xx) since the broker started'),
      failed: gauge('warren_push_failed_attempts', 'Push requests that failed (non-2xx, timeout, connection error) since the broker started'),
      dead: gauge('warren_push_dead_lettered', 'Messages a push queue dead-lettered since the broker started'),
      status: gauge('warren_push_last_status', 'HTTP status of the latest push request (0: no answer)'),
      lastLatency: gauge('warren_push_last_latency_seconds', 'Duration of the latest push request'),
      meanLatency: gauge('warren_push_mean_latency_seconds', 'Mean duration of successful push requests'),
      held: gauge('warren_push_held', 'Is 1 while Retry-After from the endpoint holds new requests'),
      refused: gauge('warren_push_refused', 'Is 1 when a push queue cannot run (bad settings, refused endpoint)'),
    };
    this.records = new Gauge({ name: 'warren_records', help: 'Records per table and tag (warren/jobs: jobs per state)', labelNames: ['vhost', 'table', 'tag'], registers });
  }

  collect(): void {
    for (const gauge of Object.values(this.push)) gauge.reset();
    for (const raw of this.context.pushStates?.() ?? []) {
      const s = raw as PushStateFields;
      const labels = { vhost: s.vhost, queue: s.queue };
      if (s.error !== undefined && s.in_flight === undefined) {
        this.push.refused.set(labels, 1);
        continue;
      }
      this.push.refused.set(labels, 0);
      this.push.inFlight.set(labels, s.in_flight ?? 0);
      this.push.concurrency.set(labels, s.concurrency ?? 0);
      this.push.delivered.set(labels, s.delivered ?? 0);
      this.push.failed.set(labels, s.failed_attempts ?? 0);
      this.push.dead.set(labels, s.dead_lettered ?? 0);
      this.push.status.set(labels, s.last_status ?? 0);
      if (s.last_latency_ms != null) this.push.lastLatency.set(labels, s.last_latency_ms / 1000);
      if (s.mean_latency_ms != null) this.push.meanLatency.set(labels, s.mean_latency_ms / 1000);
      this.push.held.set(labels, s.paused_until != null ? 1 : 0);
    }
    this.records.reset();
    const records = this.context.broker.records;
    for (const vhost of this.context.broker.vhosts.keys()) {
      for (const { name } of records.tablesOf(vhost)) {
        for (const [tag, n] of Object.entries(records.counts(vhost, name))) this.records.set({ vhost, table: name, tag }, n);
      }
    }
  }
}
