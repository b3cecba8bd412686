import type { Consumer, QueueEntry, SessionOwner } from '../broker/front-door.js';
import type { FieldTable } from '../broker/message.js';
import { fieldString } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { Agent } from 'node:http';
import { endpointRefusal, type PushSafety } from './endpoint-guard.js';
import { endpointAgent, postOnce } from './http-post.js';
import { retryAfterMs, retryDelay, type PushSettings } from './settings.js';
import { signWebhook } from './signature.js';

/** A push queue's state as the management API shows it (GET /api/push). */
export interface PushQueueState {
  vhost: string;
  queue: string;
  endpoint: string;
  concurrency: number;
  in_flight: number;
  delivered: number;
  failed_attempts: number;
  dead_lettered: number;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  /** Mean time of successful requests. */
  mean_latency_ms: number | null;
  /** Retry-After from the endpoint holds new requests until then. */
  paused_until: number | null;
}

interface Outcome {
  status: number | undefined;
  error: string | undefined;
  retryAfter: number | undefined;
}

const OWNER: SessionOwner = { name: 'warren push delivery' };
let consumerCounter = 0;

/**
 * The broker consuming a push queue for its endpoint: each delivered message is POSTed, 2xx acks it,
 * anything else retries in place (the delivery stays held, so a message's retries never overtake each
 * other and message groups keep order), 410 or exhaustion dead-letters it with the last status.
 */
export class PushConsumer implements Consumer {
  readonly tag = `warren.push-${++consumerCounter}`;
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments: FieldTable = {};
  readonly owner = OWNER;
  private inFlight = 0;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly held = new Set<QueueEntry>();
  private readonly aborts = new Set<AbortController>();
  private delivered = 0;
  private failedAttempts = 0;
  private deadLettered = 0;
  private lastStatus: number | undefined;
  private lastError: string | undefined;
  private lastLatencyMs: number | undefined;
  private latencyTotalMs = 0;
  private readonly agent: Agent;

  constructor(
    private readonly queue: QueueView,
    private readonly settings: PushSettings,
    private readonly safety: PushSafety,
    private readonly secret: string | undefined,
  ) {
    this.agent = endpointAgent(settings.endpoint, settings.concurrency);
  }

  canTake(): boolean {
    return !this.stopped && this.inFlight < this.settings.concurrency && Date.now() >= this.pausedUntil;
  }

  deliver(entry: QueueEntry, queue: QueueView): void {
    this.inFlight++;
    this.held.add(entry);
    void this.run(entry, queue);
  }

  cancelledByBroker(): void {
    this.stop();
  }

  describe() {
    return { channel: undefined, prefetchCount: this.settings.concurrency };
  }

  /** Stops pushing; held messages go back to the queue, requests in flight are aborted. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.resumeTimer);
    for (const controller of this.aborts) controller.abort();
    this.agent.destroy();
    if (!this.queue.deleted) this.queue.requeue([...this.held].sort((a, b) => a.seq - b.seq));
    this.held.clear();
  }

  state(): PushQueueState {
    return {
      vhost: this.queue.vhost.name,
      queue: this.queue.name,
      endpoint: this.settings.endpoint.toString(),
      concurrency: this.settings.concurrency,
      in_flight: this.inFlight,
      delivered: this.delivered,
      failed_attempts: this.failedAttempts,
      dead_lettered: this.deadLettered,
      last_status: this.lastStatus ?? null,
      last_error: this.lastError ?? null,
      last_latency_ms: this.lastLatencyMs ?? null,
      mean_latency_ms: this.delivered === 0 ? null : this.latencyTotalMs / this.delivered,
      paused_until: this.pausedUntil > Date.now() ? this.pausedUntil : null,
    };
  }

  private async run(entry: QueueEntry, queue: QueueView): Promise<void> {
    const firstTry = Date.now();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.post(entry, attempt);
      if (this.stopped || !this.held.has(entry)) return;
      this.lastStatus = outcome.status;
      this.lastError = outcome.error;
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        this.delivered++;
        return this.release(entry, () => queue.ack(entry));
      }
      this.failedAttempts++;
      const exhausted = attempt >= this.settings.maxAttempts || (this.settings.maxAgeMs > 0 && Date.now() - firstTry >= this.settings.maxAgeMs);
      // 410 Gone: the endpoint says it will never take this (Pub/Sub push and webhooks treat it as final).
      if (outcome.status === 410 || exhausted) {
        this.deadLettered++;
        return this.release(entry, () => this.deadLetter(entry, queue, outcome, attempt));
      }
      let delay = retryDelay(this.settings, attempt);
      if ((outcome.status === 429 || outcome.status === 503) && outcome.retryAfter !== undefined) {
        delay = Math.min(Math.max(delay, outcome.retryAfter), this.settings.maxBackoffMs);
        this.holdQueue(delay);
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      if (this.stopped) return;
    }
  }

  private release(entry: QueueEntry, settle: () => void): void {
    this.held.delete(entry);
    this.inFlight--;
    settle();
    this.queue.resumeDispatch();
  }

  /** 429/503 with Retry-After: no new requests to this endpoint until then. */
  private holdQueue(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.queue.resumeDispatch(), this.pausedUntil - Date.now() + 1);
  }

  private async post(entry: QueueEntry, attempt: number): Promise<Outcome> {
    const refusal = await endpointRefusal(this.settings.endpoint, this.safety);
    if (refusal !== undefined) return { status: undefined, error: refusal, retryAfter: undefined };
    const controller = new AbortController();
    this.aborts.add(controller);
    const timer = setTimeout(() => controller.abort(new Error(`no answer within ${this.settings.timeoutMs} ms`)), this.settings.timeoutMs);
    const started = Date.now();
    try {
      // Redirects are never followed (node:http does not): one could lead where the guard refuses.
      const response = await postOnce(this.agent, this.settings.endpoint, this.headers(entry, attempt), entry.message.body, controller.signal);
      const ok = response.status >= 200 && response.status < 300;
      this.lastLatencyMs = Date.now() - started;
      if (ok) this.latencyTotalMs += this.lastLatencyMs;
      return { status: response.status, error: ok ? undefined : `HTTP ${response.status}`, retryAfter: retryAfterMs(response.retryAfter) };
    } catch (error) {
      const reason = controller.signal.aborted ? (controller.signal.reason as Error | undefined)?.message ?? 'aborted' : (error as Error).message;
      return { status: undefined, error: reason, retryAfter: undefined };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(controller);
    }
  }

  private headers(entry: QueueEntry, attempt: number): Record<string, string> {
    const message = entry.message;
    const properties = message.properties;
    const id = properties.messageId ?? `${this.queue.name}-${entry.seq}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': properties.contentType ?? 'application/octet-stream',
      'user-agent': 'warren-push',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'warren-queue': this.queue.name,
      'warren-exchange': message.exchange,
      'warren-routing-key': message.routingKey,
      'warren-attempt': String(attempt),
      'warren-redelivered': String(entry.redelivered || attempt > 1),
    };
    if (properties.correlationId !== undefined) headers['warren-correlation-id'] = properties.correlationId;
    if (properties.type !== undefined) headers['warren-type'] = properties.type;
    if (properties.contentEncoding !== undefined) headers['content-encoding'] = properties.contentEncoding;
    for (const [name, value] of Object.entries(properties.headers ?? {})) {
      const text = typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : fieldString(value);
      if (text !== undefined && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name) && !/[\r\n]/.test(text)) headers[`warren-header-${name.toLowerCase()}`] = text;
    }
    if (this.secret !== undefined) headers['webhook-signature'] = signWebhook(this.secret, id, timestamp, message.body);
    return headers;
  }

  /** To the queue's x-dead-letter-exchange with the last status in the headers; dropped without one. */
  private deadLetter(entry: QueueEntry, queue: QueueView, outcome: Outcome, attempts: number): void {
    const exchange = fieldString(queue.arguments['x-dead-letter-exchange']);
    if (exchange === undefined) return queue.reject(entry, false);
    const message = entry.message;
    const headers: FieldTable = { ...message.properties.headers, 'x-push-attempts': attempts, 'x-push-last-error': outcome.error ?? '' };
    if (outcome.status !== undefined) headers['x-push-last-status'] = outcome.status;
    const routingKey = fieldString(queue.arguments['x-dead-letter-routing-key']) ?? message.routingKey;
    try {
      queue.vhost.publish(message.withProperties({ ...message.properties, headers }, exchange, routingKey));
    } catch (error) {
      this.lastError = `dead-lettering failed: ${(error as Error).message}`;
    }
    queue.ack(entry);
  }
}
