/**
 * An MQTT session (MQTT 5.0 4.1): what outlives a connection while the session has not expired. Its
 * subscriptions are bindings of one queue on amq.topic (RabbitMQ's "mqtt-subscription-<client id>"
 * queue): durable for a persistent session (so subscriptions and QoS 1 messages survive a restart, with
 * x-expires as the session expiry), exclusive to the connection otherwise. The binding arguments keep
 * each subscription's options, so a session is rebuilt from its queue after a restart.
 */
import type { Consumer, ConsumerDetails, QueueEntry, SessionOwner } from '../broker/front-door.js';
import { fieldNumber, type FieldTable } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { SessionAccess } from '../session/access.js';
import type { DurabilityBarrier } from '../session/durability.js';
import type { Qos2State, Qos2StateStore } from './qos2-state.js';
import type { QoS, SubscriptionRequest } from './codec/packets.js';
import { TOPIC_EXCHANGE } from './message-mapping.js';
import { routingKeyToTopic, topicMatches, topicToRoutingKey, type SharedFilter } from './topics.js';

export interface Subscription extends SubscriptionRequest {
  /** 5.0 subscription identifier (3.8.2.1.2), sent back with matching messages. */
  identifier: number | undefined;
}

/** What a session needs from the connection it is attached to. */
export interface SessionHost extends SessionOwner {
  readonly access: SessionAccess;
  canDeliver(): boolean;
  deliver(entry: QueueEntry, queue: QueueView, subscriptions: readonly Subscription[]): void;
  readonly location: ConsumerDetails['channel'];
}

/** Never expires (5.0 3.1.2.11.2: 0xFFFFFFFF); also what 3.1.1's clean session 0 means. */
export const NEVER_EXPIRES = 0xffffffff;

/** A clean session's queue on a cluster node outlives a crash of that node by at most this. */
const CLUSTERED_CLEAN_SESSION_EXPIRES_MS = 60_000;

const NO_SUBSCRIPTIONS: readonly Subscription[] = [];

export function sessionQueueName(clientId: string): string {
  return `mqtt-subscription-${clientId}`;
}

/** The core's Consumer for one queue of a session (its own queue, or one shared subscription's). */
class SessionConsumer implements Consumer {
  readonly noAck = false;
  readonly exclusive = false;
  readonly priority = 0;
  readonly arguments: FieldTable = {};

  constructor(
    readonly tag: string,
    private readonly session: MqttSession,
    /** The subscriptions this consumer delivers for (a shared one), or undefined: the session's own. */
    shared: Subscription | undefined,
  ) {
    this.sharedList = shared === undefined ? undefined : [shared];
  }

  /** A shared subscription's consumer delivers for that one (a list made once, not per delivery). */
  private readonly sharedList: readonly Subscription[] | undefined;

  get owner(): SessionOwner {
    return this.session.host ?? this.session.placeholderOwner;
  }

  canTake(): boolean {
    return this.session.host?.canDeliver() === true;
  }

  deliver(entry: QueueEntry, queue: QueueView): void {
    const host = this.session.host;
    if (host === undefined) return void queue.requeue([entry]);
    host.deliver(entry, queue, this.sharedList ?? this.session.matching(entry.message.routingKey));
  }

  cancelledByBroker(): void {
    // The queue was deleted (by an operator): the subscriptions it held are gone with it.
    if (this.sharedList === undefined) this.session.subscriptions.clear();
  }

  describe(): ConsumerDetails {
    return { channel: this.session.host?.location, prefetchCount: 0 };
  }
}

interface SharedMembership {
  readonly subscription: Subscription;
  readonly queue: QueueView;
  readonly consumer: SessionConsumer;
}

export class MqttSession {
  readonly subscriptions = new Map<string, Subscription>();
  readonly shared = new Map<string, SharedMembership>();
  /** QoS 2 publishes received and PUBREC'd, awaiting PUBREL (4.3.3): kept across reconnects. */
  readonly inboundQos2 = new Set<number>();
  /** QoS 2 deliveries PUBREC'd by the client, awaiting PUBCOMP: PUBREL is sent again on reconnect. */
  readonly pendingRelease = new Set<number>();
  /** Messages this session published, for 5.0's No Local (3.8.3.1). */
  readonly published = new WeakSet<object>();
  /** Where the QoS 2 sets are kept durably while the session is persistent (qos2-state.ts). */
  qos2Store: Qos2StateStore | undefined;
  host: SessionHost | undefined;
  queue: QueueView | undefined;
  private consumer: SessionConsumer | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  willTimer: NodeJS.Timeout | undefined;
  readonly placeholderOwner: SessionOwner;
  /** The routing-key form of the last exact filter matched, and the list matching returns for it. */
  private exactKey: { readonly key: string; readonly matched: readonly Subscription[] } = { key: '', matched: [] };

  constructor(
    readonly vhost: VHost,
    readonly clientId: string,
    /** Seconds the session lives after its connection ends; 0 = it ends with it. */
    public expirySeconds: number,
    /** On a cluster node (queues placed by the cluster). */
    private readonly clustered = false,
  ) {
    this.placeholderOwner = { name: `mqtt session ${clientId}` };
  }

  get persistent(): boolean {
    return this.expirySeconds > 0;
  }

  get queueName(): string {
    return sessionQueueName(this.clientId);
  }

  /**
   * Whether a subscription of this session has No Local (3.8.3.1; never a shared one, 4.8.2). Only
   * messages published while one does are remembered in `published`, so No Local applies to messages
   * published while it is set.
   */
  hasNoLocal(): boolean {
    if (this.subscriptions.size === 0) return false;
    for (const sub of this.subscriptions.values()) if (sub.noLocal) return true;
    return false;
  }

  /** The non-shared subscriptions whose filters match a message's routing key. */
  matching(routingKey: string): readonly Subscription[] {
    // The common case, one filter without wildcards, is compared in routing-key form (no conversion,
    // and the same one-element list every time).
    if (this.subscriptions.size === 1) {
      const only = this.subscriptions.values().next().value as Subscription;
      if (!only.filter.includes('+') && !only.filter.includes('#')) {
        if (this.exactKey.matched[0] !== only) this.exactKey = { key: topicToRoutingKey(only.filter), matched: [only] };
        return this.exactKey.key === routingKey ? this.exactKey.matched : NO_SUBSCRIPTIONS;
      }
    }
    const topic = routingKeyToTopic(routingKey);
    const out: Subscription[] = [];
    for (const sub of this.subscriptions.values()) if (topicMatches(sub.filter, topic)) out.push(sub);
    return out;
  }

  /**
   * Records the QoS 2 sets durably after a change (persistent sessions only); returns what an
   * acknowledgement that depends on the change (PUBREC of a new inbound id) must wait for.
   */
  persistQos2(): DurabilityBarrier | undefined {
    if (!this.persistent || this.qos2Store === undefined || this.qos2Store.deleted) return undefined;
    return this.qos2Store.save(this.clientId, { inbound: [...this.inboundQos2], release: [...this.pendingRelease] });
  }

  /** The QoS 2 sets stored before a restart. */
  restoreQos2(state: Qos2State): void {
    for (const id of state.inbound) this.inboundQos2.add(id);
    for (const id of state.release) this.pendingRelease.add(id);
  }

  /** The session's queue, declared on first need. */
  ensureQueue(host: SessionHost): QueueView {
    if (this.queue !== undefined && !this.queue.deleted) return this.queue;
    const name = this.queueName;
    host.access.declareQueue(name);
    // In a cluster, exclusive and non-durable queues stay unseen by the other nodes (ARCHITECTURE.md,
    // "Cluster"), so publishes there would not reach them: a clean session's queue is durable there
    // too (still on this node, client-local), deleted when the session ends, with x-expires as the
    // backstop should its node die first.
    const durable = this.persistent || this.clustered;
    const expiresMs = this.persistent ? (this.expirySeconds === NEVER_EXPIRES ? undefined : this.expirySeconds * 1000) : durable ? CLUSTERED_CLEAN_SESSION_EXPIRES_MS : undefined;
    const args: FieldTable = expiresMs === undefined ? {} : { 'x-expires': expiresMs };
    const existing = this.vhost.getQueue(name);
    this.queue = existing ?? this.vhost.declareQueue({ name, durable, exclusive: !durable, autoDelete: false, arguments: args }, host).queue;
    this.startConsumer();
    return this.queue;
  }

  /** A persistent session's queue left from before a restart: its bindings are its subscriptions. */
  restoreFromQueue(queue: QueueView): void {
    this.queue = queue;
    for (const binding of queue.bindings) {
      if (binding.source.name !== TOPIC_EXCHANGE) continue;
      const sub = subscriptionFromBinding(binding.arguments);
      if (sub !== undefined) this.subscriptions.set(sub.filter, sub);
    }
  }

  attach(host: SessionHost): void {
    this.host = host;
    clearTimeout(this.expiryTimer);
    clearTimeout(this.willTimer);
    this.expiryTimer = undefined;
    this.willTimer = undefined;
    if (this.queue !== undefined) this.startConsumer();
    for (const member of this.shared.values()) member.queue.resumeDispatch();
  }

  private startConsumer(): void {
    const queue = this.queue;
    if (queue === undefined || this.consumer !== undefined) return;
    this.consumer = new SessionConsumer(`mqtt-${this.clientId}`, this, undefined);
    queue.addConsumer(this.consumer);
  }

  /** The connection can take more: every queue it consumes from may dispatch again. */
  resumeDispatch(): void {
    this.queue?.resumeDispatch();
    for (const member of this.shared.values()) member.queue.resumeDispatch();
  }

  /** The connection ended: stop consuming (what it held unacknowledged was requeued by it). */
  detach(): void {
    this.host = undefined;
    if (this.consumer !== undefined && this.queue !== undefined && !this.queue.deleted) this.queue.removeConsumer(this.consumer);
    this.consumer = undefined;
    for (const [filter, member] of this.shared) {
      if (!member.queue.deleted) member.queue.removeConsumer(member.consumer);
      this.shared.delete(filter);
    }
  }

  /** Adds or replaces one subscription; returns whether it existed (5.0 retain handling 1). */
  subscribe(host: SessionHost, sub: Subscription, shared: SharedFilter | undefined, fullFilter: string): boolean {
    if (shared !== undefined) return this.subscribeShared(host, sub, shared, fullFilter);
    const queue = this.ensureQueue(host);
    const key = topicToRoutingKey(sub.filter);
    host.access.bind('queue', queue.name, TOPIC_EXCHANGE);
    host.access.readTopic(TOPIC_EXCHANGE, key);
    host.access.readQueue(queue.name);
    const previous = this.subscriptions.get(sub.filter);
    if (previous !== undefined) this.vhost.unbindQueue(queue.name, TOPIC_EXCHANGE, key, bindingArguments(previous), host);
    this.vhost.bindQueue(queue.name, TOPIC_EXCHANGE, key, bindingArguments(sub), host);
    this.subscriptions.set(sub.filter, sub);
    return previous !== undefined;
  }

  /** 4.8.2: each group is one queue; its members are consumers of it, served round-robin. */
  private subscribeShared(host: SessionHost, sub: Subscription, shared: SharedFilter, fullFilter: string): boolean {
    const existing = this.shared.get(fullFilter);
    if (existing !== undefined) return true;
    const name = `mqtt-shared-${shared.group}-${topicToRoutingKey(shared.filter)}`;
    host.access.declareQueue(name);
    host.access.bind('queue', name, TOPIC_EXCHANGE);
    host.access.readTopic(TOPIC_EXCHANGE, topicToRoutingKey(shared.filter));
    host.access.readQueue(name);
    const queue = this.vhost.declareQueue({ name, durable: false, exclusive: false, autoDelete: true, arguments: {} }, host).queue;
    this.vhost.bindQueue(name, TOPIC_EXCHANGE, topicToRoutingKey(shared.filter), {}, host);
    const member = { subscription: { ...sub, filter: shared.filter }, queue, consumer: new SessionConsumer(`mqtt-${this.clientId}-${fullFilter}`, this, { ...sub, filter: shared.filter }) };
    this.shared.set(fullFilter, member);
    queue.addConsumer(member.consumer);
    return false;
  }

  /** Returns whether the subscription existed. */
  unsubscribe(host: SessionHost, filter: string): boolean {
    const member = this.shared.get(filter);
    if (member !== undefined) {
      this.shared.delete(filter);
      if (!member.queue.deleted) member.queue.removeConsumer(member.consumer);
      return true;
    }
    const sub = this.subscriptions.get(filter);
    if (sub === undefined || this.queue === undefined) return false;
    this.subscriptions.delete(filter);
    this.vhost.unbindQueue(this.queue.name, TOPIC_EXCHANGE, topicToRoutingKey(filter), bindingArguments(sub), host);
    return true;
  }

  /** The session ends: its queue (and so its subscriptions and messages) goes. */
  end(owner: SessionOwner): void {
    clearTimeout(this.expiryTimer);
    this.detach();
    this.subscriptions.clear();
    if (this.inboundQos2.size + this.pendingRelease.size > 0 && this.qos2Store !== undefined && !this.qos2Store.deleted) {
      this.inboundQos2.clear();
      this.pendingRelease.clear();
      this.qos2Store.save(this.clientId, { inbound: [], release: [] });
    }
    const queue = this.queue;
    this.queue = undefined;
    if (queue !== undefined && !queue.deleted) {
      try {
        this.vhost.deleteQueue(queue.name, { ifUnused: false, ifEmpty: false }, queue.exclusiveOwner ?? owner);
      } catch {
        // Already gone with its exclusive owner.
      }
    }
  }
}


/** Subscription options as binding arguments: durable with the binding, read back after a restart. */
function bindingArguments(sub: Subscription): FieldTable {
  const args: FieldTable = { 'x-mqtt-filter': sub.filter, 'x-mqtt-qos': sub.qos };
  if (sub.noLocal) args['x-mqtt-no-local'] = true;
  if (sub.retainAsPublished) args['x-mqtt-retain-as-published'] = true;
  if (sub.identifier !== undefined) args['x-mqtt-subscription-id'] = sub.identifier;
  return args;
}

function subscriptionFromBinding(args: FieldTable): Subscription | undefined {
  const filter = args['x-mqtt-filter'];
  const qos = fieldNumber(args['x-mqtt-qos']);
  if (typeof filter !== 'string' || (qos !== 0 && qos !== 1 && qos !== 2)) return undefined;
  return {
    filter,
    qos: qos as QoS,
    noLocal: args['x-mqtt-no-local'] === true,
    retainAsPublished: args['x-mqtt-retain-as-published'] === true,
    retainHandling: 0,
    identifier: fieldNumber(args['x-mqtt-subscription-id']),
  };
}

/** Sessions by vhost and client id, for one listener. */
export class SessionRegistry {
  private readonly sessions = new Map<string, MqttSession>();

  get(vhost: string, clientId: string): MqttSession | undefined {
    return this.sessions.get(`${vhost}\u0000${clientId}`);
  }

  set(session: MqttSession): void {
    this.sessions.set(`${session.vhost.name}\u0000${session.clientId}`, session);
  }

  delete(session: MqttSession): void {
    const key = `${session.vhost.name}\u0000${session.clientId}`;
    if (this.sessions.get(key) === session) this.sessions.delete(key);
  }

  all(): IterableIterator<MqttSession> {
    return this.sessions.values();
  }

  /** Its connection ended: a session with no expiry ends now, a persistent one when its expiry runs out. */
  keepOrEnd(session: MqttSession, owner: SessionOwner): void {
    if (!session.persistent) {
      session.end(owner);
      return this.delete(session);
    }
    if (session.expirySeconds === NEVER_EXPIRES) return;
    session.expiryTimer = setTimeout(() => {
      if (session.host !== undefined) return;
      session.end(owner);
      this.delete(session);
    }, session.expirySeconds * 1000);
    session.expiryTimer.unref?.();
  }
}
