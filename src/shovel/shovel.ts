/**
 * One running shovel: connects its source and destination, moves messages between them with the
 * acknowledgement mode it was given, and reconnects with backoff when either end fails. State follows
 * RabbitMQ's shovel status: `starting` while connecting, `running`, `terminated` with the reason
 * (between attempts, and for good when reconnect-delay is 0).
 */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { BasicProperties, FieldTable, FieldValue } from '../broker/message.js';
import { redactUri } from '../util/uri-secrets.js';
import { AmqpDestination, AmqpSource } from './amqp-endpoint.js';
import type { ShovelSpec } from './definition.js';
import type { DestTarget, ShovelDestination, ShovelSource, SourceDelivery, SourceTarget } from './endpoint.js';
import { LinkRunner, type LinkAttempt } from './link-runner.js';
import { LocalDestination, LocalSource } from './local-endpoint.js';
import { endpointOf } from './uri.js';

export type ShovelState = 'starting' | 'running' | 'terminated';

export interface ShovelDeps {
  readonly broker: Broker;
  readonly nodeName: string;
  readonly logger: Logger;
  /** src-delete-after reached: the owner removes the shovel (a dynamic one: its parameter). */
  readonly finished: (shovel: Shovel) => void;
}

/** How long a message the destination refused waits before it is requeued at the source. */
const REFUSED_RETRY_MS = 1000;

/** Longest wait between attempts, unless reconnect-delay itself is longer. */
const MAX_BACKOFF_MS = 10_000;

export class Shovel {
  state: ShovelState = 'starting';
  reason: string | undefined;
  /** Messages settled at the destination (confirmed, or published for the other ack modes). */
  transferred = 0;
  /** Connection attempts that failed in a row (0 while running). */
  failures = 0;
  /** When the state last changed (RabbitMQ's `timestamp`). */
  since = new Date();
  srcUri: string;
  destUri: string;
  private readonly runner: LinkRunner;
  /** Connection attempts so far: they go round the URIs in turn. */
  private attempts = 0;
  /** src-delete-after reached: no further attempts. */
  private finished = false;
  /** src-delete-after as a count, once known (queue-length is read at the first start). */
  private limit: number | undefined;
  private inFlight = 0;
  private readonly owner;

  constructor(
    readonly name: string,
    readonly vhost: string,
    readonly type: 'dynamic' | 'static',
    readonly spec: ShovelSpec,
    private readonly deps: ShovelDeps,
  ) {
    this.srcUri = spec.srcUris[0] as string;
    this.destUri = spec.destUris[0] as string;
    this.owner = { name: `shovel '${name}' in vhost '${vhost}'` };
    if (typeof spec.deleteAfter === 'number') this.limit = spec.deleteAfter;
    this.runner = new LinkRunner({
      open: (attempt) => this.open(attempt),
      failed: (reason) => this.retryDelay(reason),
      closed: () => (this.inFlight = 0),
    });
  }

  start(): void {
    this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private setState(state: ShovelState, reason?: string): void {
    this.state = state;
    this.reason = reason;
    this.since = new Date();
  }

  private pick(uris: readonly string[]): string {
    return uris[this.attempts % uris.length] as string;
  }

  private async open(attempt: LinkAttempt): Promise<void> {
    this.setState('starting');
    this.srcUri = this.pick(this.spec.srcUris);
    this.destUri = this.pick(this.spec.destUris);
    this.attempts++;
    const dest = attempt.keep(this.makeDestination());
    await dest.open(attempt.fail);
    const source = attempt.keep(this.makeSource());
    if (!attempt.current) return;
    const { queueLength } = await source.open((delivery) => {
      if (attempt.current) this.forward(source, dest, delivery, attempt);
    }, attempt.fail);
    if (!attempt.current) return;
    if (this.limit === undefined && this.spec.deleteAfter === 'queue-length') this.limit = queueLength;
    this.failures = 0;
    this.setState('running');
    this.deps.logger.info({ shovel: this.name, vhost: this.vhost, src: redactUri(this.srcUri), dest: redactUri(this.destUri) }, `shovel '${this.name}' running`);
    this.checkFinished();
  }

  /** RabbitMQ's reconnect-delay, doubled per failure in a row up to MAX_BACKOFF_MS; 0 means never again. */
  private retryDelay(reason: string): number | undefined {
    this.setState('terminated', reason);
    this.failures++;
    if (this.finished) return undefined;
    if (this.spec.reconnectDelay === 0) {
      this.deps.logger.warn({ shovel: this.name, vhost: this.vhost, reason }, `shovel '${this.name}' terminated (reconnect-delay 0: not restarted): ${reason}`);
      return undefined;
    }
    const base = this.spec.reconnectDelay * 1000;
    const delay = Math.min(base * 2 ** Math.min(this.failures - 1, 10), Math.max(base, MAX_BACKOFF_MS));
    this.deps.logger.warn({ shovel: this.name, vhost: this.vhost, reason, retryInMs: delay }, `shovel '${this.name}' failed: ${reason}; reconnecting in ${delay} ms`);
    return delay;
  }

  private makeSource(): ShovelSource {
    const s = this.spec.source;
    const target: SourceTarget =
      s.kind === 'queue' ? { kind: 'queue', queue: s.queue, queueArgs: s.queueArgs, declare: true } : { kind: 'exchange', exchange: s.exchange, keys: [s.key] };
    const options = { target, prefetch: this.spec.prefetch, noAck: this.spec.ackMode === 'no-ack' };
    const endpoint = endpointOf(this.srcUri, this.vhost);
    if (endpoint.local) return new LocalSource(this.deps.broker, endpoint.vhost, `shovel-${this.name}`, this.owner, options);
    return new AmqpSource(endpoint.uri, `Shovel ${this.name}`, options);
  }

  private destTarget(): DestTarget {
    const d = this.spec.dest;
    if (d.kind === 'queue') return { kind: 'queue', queue: d.queue, queueArgs: d.queueArgs };
    if (d.kind === 'exchange') return { kind: 'exchange', exchange: d.exchange };
    return { kind: 'original' };
  }

  private makeDestination(): ShovelDestination {
    const endpoint = endpointOf(this.destUri, this.vhost);
    if (endpoint.local) return new LocalDestination(this.deps.broker, endpoint.vhost, this.owner, this.destTarget());
    return new AmqpDestination(endpoint.uri, `Shovel ${this.name}`, this.destTarget(), this.spec.ackMode === 'on-confirm');
  }

  /** Where a message goes: dest-queue through the default exchange, dest-exchange(-key), or its own. */
  private route(delivery: SourceDelivery): [exchange: string, routingKey: string] {
    const d = this.spec.dest;
    const m = delivery.message;
    if (d.kind === 'queue') return ['', d.queue];
    if (d.kind === 'exchange') return [d.exchange, d.key ?? m.routingKey];
    return [m.exchange, m.routingKey];
  }

  private forward(source: ShovelSource, dest: ShovelDestination, delivery: SourceDelivery, attempt: LinkAttempt): void {
    // Past src-delete-after: leave it unsettled; it goes back to the source queue when the shovel stops.
    if (this.limit !== undefined && this.transferred + this.inFlight >= this.limit) return;
    const [exchange, routingKey] = this.route(delivery);
    const properties = this.rewrite(delivery.message.properties, exchange, routingKey);
    const body = delivery.message.body;
    switch (this.spec.ackMode) {
      case 'on-confirm':
        this.inFlight++;
        dest.publish(exchange, routingKey, properties, body, (ok) => {
          if (!attempt.current) return; // the source took it back when its channel closed
          this.inFlight--;
          if (ok) {
            source.ack(delivery);
            this.transferred++;
            this.checkFinished();
          } else {
            // Refused (a full queue with reject-publish): offered again after a pause, not in a hot loop.
            const retry = setTimeout(() => attempt.current && source.requeue(delivery), REFUSED_RETRY_MS);
            retry.unref();
          }
        });
        return;
      case 'on-publish':
        dest.publish(exchange, routingKey, properties, body);
        source.ack(delivery);
        break;
      case 'no-ack':
        dest.publish(exchange, routingKey, properties, body);
        break;
    }
    this.transferred++;
    this.checkFinished();
  }

  private checkFinished(): void {
    if (this.limit === undefined || this.transferred < this.limit || this.finished) return;
    this.deps.logger.info({ shovel: this.name, vhost: this.vhost, transferred: this.transferred }, `shovel '${this.name}' moved ${this.transferred} messages (src-delete-after): removed`);
    this.finished = true;
    this.deps.finished(this);
  }

  /** dest-publish-properties, and the x-shovelled / x-shovelled-timestamp headers when asked for. */
  private rewrite(original: BasicProperties, exchange: string, routingKey: string): BasicProperties {
    const spec = this.spec;
    if (!spec.addForwardHeaders && !spec.addTimestampHeader && Object.keys(spec.publishProperties).length === 0) return original;
    const properties: BasicProperties = { ...original, ...spec.publishProperties };
    if (!spec.addForwardHeaders && !spec.addTimestampHeader) return properties;
    const headers: FieldTable = { ...(original.headers ?? {}) };
    if (spec.addForwardHeaders) {
      const previous = headers['x-shovelled'];
      const trail: FieldValue[] = Array.isArray(previous) ? [...previous] : [];
      trail.push(this.forwardRecord(exchange, routingKey));
      headers['x-shovelled'] = trail;
    }
    if (spec.addTimestampHeader) headers['x-shovelled-timestamp'] = Math.floor(Date.now() / 1000);
    properties.headers = headers;
    return properties;
  }

  /** One entry of x-shovelled, with RabbitMQ's keys (URIs without their passwords). */
  private forwardRecord(exchange: string, routingKey: string): FieldTable {
    const record: FieldTable = {
      'shovelled-by': this.deps.nodeName,
      'shovel-type': this.type,
      'shovel-name': this.name,
      'shovel-vhost': this.vhost,
      'src-uri': redactUri(this.srcUri),
      'dest-uri': redactUri(this.destUri),
    };
    const s = this.spec.source;
    if (s.kind === 'queue') record['src-queue'] = s.queue;
    else {
      record['src-exchange'] = s.exchange;
      record['src-exchange-key'] = s.key;
    }
    const d = this.spec.dest;
    if (d.kind === 'queue') record['dest-queue'] = d.queue;
    else {
      record['dest-exchange'] = exchange;
      record['dest-exchange-key'] = routingKey;
    }
    return record;
  }
}
