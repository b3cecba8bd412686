/**
 * One federation link: a local exchange or queue receiving from one upstream. The link consumes
 * upstream through a source endpoint (amqplib, or the core for `amqp://`) and publishes here through
 * the core with confirms; it reconnects after `reconnect-delay` when either side fails. Status as
 * RabbitMQ's /api/federation-links shows it: starting, running, or error with the reason.
 */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { FieldTable, FieldValue } from '../broker/message.js';
import { fieldString, isFieldTable } from '../broker/message.js';
import { AmqpSource } from '../shovel/amqp-endpoint.js';
import type { ShovelSource, SourceDelivery, SourceOptions } from '../shovel/endpoint.js';
import { LinkRunner, type LinkAttempt } from '../shovel/link-runner.js';
import { LocalDestination, LocalSource } from '../shovel/local-endpoint.js';
import { endpointOf } from '../shovel/uri.js';
import { redactUri } from '../util/uri-secrets.js';
import type { UpstreamSpec } from './upstream.js';

export interface LinkDeps {
  readonly broker: Broker;
  readonly logger: Logger;
  /** This broker's name in x-received-from (the global parameter cluster_name, else the node name). */
  readonly identity: () => string;
}

export type LinkKind = 'exchange' | 'queue';

export class FederationLink {
  status: 'starting' | 'running' | 'error' = 'starting';
  error: string | undefined;
  since = new Date();
  uri: string;
  /** Messages published here (exchange links: after the loop and hop checks). */
  received = 0;
  private source: ShovelSource | undefined;
  private readonly runner: LinkRunner;
  /** Connection attempts so far: they go round the upstream's URIs in turn. */
  private attempts = 0;
  /** Exchange links: the binding keys bound upstream. */
  private readonly boundKeys = new Set<string>();
  private syncing = false;
  /** Queue links: whether the upstream consumer is on. */
  private pulling = false;
  private readonly owner;

  constructor(
    readonly vhost: string,
    readonly kind: LinkKind,
    /** The local exchange or queue. */
    readonly local: string,
    readonly upstreamName: string,
    readonly upstream: UpstreamSpec,
    private readonly deps: LinkDeps,
  ) {
    this.uri = upstream.uris[0] as string;
    this.owner = { name: `federation link ${kind} '${local}' <- upstream '${upstreamName}'` };
    this.runner = new LinkRunner({
      open: (attempt) => this.open(attempt),
      failed: (reason) => this.retryDelay(reason),
      closed: () => (this.source = undefined),
    });
  }

  /** The upstream exchange or queue. */
  get upstreamObject(): string {
    return (this.kind === 'exchange' ? this.upstream.exchange : this.upstream.queue) ?? this.local;
  }

  start(): void {
    this.runner.start();
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }

  private setStatus(status: FederationLink['status'], error?: string): void {
    this.status = status;
    this.error = error;
    this.since = new Date();
  }

  /** The keys the upstream queue must be bound with: those of the local exchange's bindings. */
  private localKeys(): Set<string> {
    const exchange = this.deps.broker.getVhost(this.vhost)?.getExchange(this.local);
    const keys = new Set<string>();
    if (exchange === undefined) return keys;
    // Fanout and headers exchanges route by no key: one binding takes everything.
    if (exchange.type === 'fanout' || exchange.type === 'headers') return exchange.bindings.size === 0 ? keys : new Set(['']);
    for (const binding of exchange.bindings.values()) keys.add(binding.routingKey);
    return keys;
  }

  private sourceOptions(): SourceOptions {
    const u = this.upstream;
    if (this.kind === 'queue') {
      return { target: { kind: 'queue', queue: this.upstreamObject, queueArgs: undefined, declare: true }, prefetch: u.prefetch, noAck: u.ackMode === 'no-ack', startPaused: true };
    }
    const args: Record<string, unknown> = {};
    if (u.expires !== undefined) args['x-expires'] = u.expires;
    if (u.messageTtl !== undefined) args['x-message-ttl'] = u.messageTtl;
    return {
      // RabbitMQ's name for the queue a link keeps upstream.
      target: { kind: 'exchange', exchange: this.upstreamObject, keys: [...this.boundKeys], queueName: `federation: ${this.local} -> ${this.deps.identity()}`, queueArgs: args },
      prefetch: u.prefetch,
      noAck: u.ackMode === 'no-ack',
    };
  }

  private async open(attempt: LinkAttempt): Promise<void> {
    this.setStatus('starting');
    this.uri = this.upstream.uris[this.attempts % this.upstream.uris.length] as string;
    this.attempts++;
    const dest = attempt.keep(new LocalDestination(this.deps.broker, this.vhost, this.owner, this.kind === 'exchange' ? { kind: 'exchange', exchange: this.local } : { kind: 'queue', queue: this.local, queueArgs: undefined }));
    await dest.open(attempt.fail);
    this.boundKeys.clear();
    if (this.kind === 'exchange') for (const key of this.localKeys()) this.boundKeys.add(key);
    const endpoint = endpointOf(this.uri, this.vhost);
    const options = this.sourceOptions();
    const source = attempt.keep(
      endpoint.local
        ? new LocalSource(this.deps.broker, endpoint.vhost, `federation-${this.local}`, this.owner, options)
        : new AmqpSource(endpoint.uri, `Federation link (upstream: ${this.upstreamName}, policy target: ${this.local})`, options),
    );
    this.source = source;
    this.pulling = false;
    await source.open((delivery) => {
      if (attempt.current) this.forward(source, dest, delivery, attempt);
    }, attempt.fail);
    if (!attempt.current) return;
    this.setStatus('running');
    this.deps.logger.info({ vhost: this.vhost, upstream: this.upstreamName, [this.kind]: this.local, uri: redactUri(this.uri) }, `federation link for ${this.kind} '${this.local}' running`);
  }

  /** RabbitMQ's federation retries after the upstream's reconnect-delay, with no backoff. */
  private retryDelay(reason: string): number {
    this.setStatus('error', reason);
    const delay = Math.max(100, this.upstream.reconnectDelay * 1000);
    this.deps.logger.warn({ vhost: this.vhost, upstream: this.upstreamName, [this.kind]: this.local, reason }, `federation link failed: ${reason}; reconnecting in ${delay} ms`);
    return delay;
  }

  /**
   * Called by the manager on every reconcile round: an exchange link follows the local bindings
   * upstream; a queue link pulls only while the local queue has consumers and nothing ready for them.
   */
  tick(): void {
    const source = this.source;
    if (this.status !== 'running' || source === undefined || this.syncing) return;
    if (this.kind === 'exchange') return void this.syncBindings(source);
    const queue = this.deps.broker.getVhost(this.vhost)?.getQueue(this.local);
    const wanted = queue !== undefined && queue.consumerCount() > 0 && queue.readyCount() === 0;
    if (wanted === this.pulling) return;
    this.pulling = wanted;
    this.syncing = true;
    void (wanted ? source.resume() : source.pause()).catch(() => undefined).finally(() => (this.syncing = false));
  }

  private async syncBindings(source: ShovelSource): Promise<void> {
    const keys = this.localKeys();
    const added = [...keys].filter((k) => !this.boundKeys.has(k));
    const removed = [...this.boundKeys].filter((k) => !keys.has(k));
    if (added.length === 0 && removed.length === 0) return;
    this.syncing = true;
    try {
      for (const key of added) {
        await source.bind?.(key);
        this.boundKeys.add(key);
      }
      for (const key of removed) {
        await source.unbind?.(key);
        this.boundKeys.delete(key);
      }
    } catch {
      /* the channel failed: the link reconnects and binds from scratch */
    } finally {
      this.syncing = false;
    }
  }

  private forward(source: ShovelSource, dest: LocalDestination, delivery: SourceDelivery, attempt: LinkAttempt): void {
    const m = delivery.message;
    let properties = m.properties;
    if (this.kind === 'exchange') {
      const trail = receivedFrom(m.properties.headers);
      const identity = this.deps.identity();
      // Loops are cut where a message comes back to a broker it already left, and at max-hops.
      if (trail.length >= this.upstream.maxHops || trail.some((entry) => fieldString(entry['cluster-name']) === identity)) {
        if (this.upstream.ackMode !== 'no-ack') source.ack(delivery);
        return;
      }
      const entry: FieldTable = {
        uri: redactUri(this.uri),
        exchange: this.upstreamObject,
        redelivered: m.redelivered,
        'cluster-name': source.peerClusterName ?? this.upstreamName,
      };
      properties = { ...m.properties, headers: { ...(m.properties.headers ?? {}), 'x-received-from': [...trail, entry] } };
    }
    const exchange = this.kind === 'exchange' ? this.local : '';
    const routingKey = this.kind === 'exchange' ? m.routingKey : this.local;
    if (this.upstream.ackMode === 'on-confirm') {
      dest.publish(exchange, routingKey, properties, m.body, (ok) => {
        if (!attempt.current) return;
        if (ok) {
          source.ack(delivery);
          this.received++;
        } else source.requeue(delivery);
      });
      return;
    }
    dest.publish(exchange, routingKey, properties, m.body);
    if (this.upstream.ackMode === 'on-publish') source.ack(delivery);
    this.received++;
  }
}

/** The x-received-from trail of a message: tables, in the order the links were crossed. */
function receivedFrom(headers: FieldTable | undefined): FieldTable[] {
  const value: FieldValue | undefined = headers?.['x-received-from'];
  if (!Array.isArray(value)) return [];
  return value.filter((entry): entry is FieldTable => isFieldTable(entry));
}
