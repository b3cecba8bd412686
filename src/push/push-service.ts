import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { QueueView } from '../broker/queue-view.js';
import type { PushSafety } from './endpoint-guard.js';
import { PushConsumer, type PushQueueState } from './push-consumer.js';
import { pushSettings, PushSettingsError } from './settings.js';

export interface PushConfig extends PushSafety {
  /** Signing secrets by name; a push queue names one with x-push-secret. */
  secrets: Readonly<Record<string, string>>;
}

const SCAN_INTERVAL_MS = 250;

/**
 * Finds push queues (x-push-endpoint) and consumes each with a PushConsumer. Queues are found by a
 * scan (every 250 ms) rather than a hook in the core, so the core stays unaware of push delivery; a
 * queue declared with a bad push argument is reported in its state and left alone.
 */
export class PushService {
  private readonly consumers = new Map<QueueView, PushConsumer>();
  private readonly refused = new Map<QueueView, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly config: PushConfig,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.scan();
    this.timer = setInterval(() => this.scan(), SCAN_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const [queue, consumer] of this.consumers) {
      consumer.stop();
      if (!queue.deleted) queue.removeConsumer(consumer);
    }
    this.consumers.clear();
  }

  states(): (PushQueueState | { vhost: string; queue: string; error: string })[] {
    const states: (PushQueueState | { vhost: string; queue: string; error: string })[] = [...this.consumers.values()].map((c) => c.state());
    for (const [queue, error] of this.refused) states.push({ vhost: queue.vhost.name, queue: queue.name, error });
    return states;
  }

  private scan(): void {
    for (const queue of this.consumers.keys()) if (queue.deleted) this.consumers.delete(queue);
    for (const queue of this.refused.keys()) if (queue.deleted) this.refused.delete(queue);
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) {
        if (this.consumers.has(queue) || this.refused.has(queue) || queue.deleted) continue;
        this.attach(queue);
      }
    }
  }

  private attach(queue: QueueView): void {
    let settings;
    try {
      settings = pushSettings(queue.arguments);
    } catch (error) {
      if (!(error instanceof PushSettingsError)) throw error;
      this.refused.set(queue, error.message);
      return;
    }
    if (settings === undefined) return;
    const secret = settings.secretName === undefined ? undefined : this.config.secrets[settings.secretName];
    if (settings.secretName !== undefined && secret === undefined) {
      this.refused.set(queue, `x-push-secret names '${settings.secretName}', which is not in the config's push.secrets`);
      return;
    }
    const consumer = new PushConsumer(queue, settings, this.config, secret);
    queue.addConsumer(consumer);
    this.consumers.set(queue, consumer);
    this.logger.info({ vhost: queue.vhost.name, queue: queue.name, endpoint: settings.endpoint.origin }, 'push delivery started');
  }
}
