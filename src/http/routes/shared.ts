import { createHash } from 'node:crypto';
import type { ConnectionView } from '../../session/views.js';
import type { User } from '../../auth/users.js';
import { fieldTableKey } from '../../broker/arguments.js';
import { fieldString } from '../../broker/message.js';
import type { Binding } from '../../broker/binding.js';
import type { Exchange } from '../../broker/exchanges/exchange.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { VHost } from '../../broker/vhost.js';
import { canSeeVhost, isMonitor } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { tableToJson } from '../format.js';

/** The version of RabbitMQ's management API whose shapes Warren follows (tools feature-detect on it). */
export const RABBITMQ_API_VERSION = '3.10.8';

/** URLs name the default exchange 'amq.default' (RabbitMQ); internally it is ''. */
export function exchangeFromUrl(name: string): string {
  return name === 'amq.default' ? '' : name;
}

export function requireVhost(context: ManagementContext, name: string): VHost {
  const vhost = context.broker.getVhost(name);
  if (vhost === undefined) throw objectNotFound();
  return vhost;
}

/** The vhosts whose objects this user's lists include, optionally just one (404 if unknown or hidden). */
export function visibleVhosts(context: ManagementContext, user: User, only?: string): VHost[] {
  if (only !== undefined) {
    const vhost = requireVhost(context, only);
    if (!canSeeVhost(context.users, user, only)) throw objectNotFound();
    return [vhost];
  }
  return [...context.broker.vhosts.values()].filter((vhost) => canSeeVhost(context.users, user, vhost.name));
}

/** Monitoring users see every connection; management users their own (RabbitMQ's rule). */
export function visibleConnections(context: ManagementContext, user: User): ConnectionView[] {
  const all = [...context.connections()];
  return isMonitor(user) ? all : all.filter((c) => c.info().user === user.name);
}

/**
 * RabbitMQ's queue type: in a cluster, whether the queue is replicated (quorum); on one node, the type it
 * was declared with (a quorum queue there is a durable queue with quorum's declare rules).
 */
function queueType(context: ManagementContext, queue: QueueView): string {
  if (context.cluster !== undefined) return context.cluster.isReplicated(queue.arguments) ? 'quorum' : 'classic';
  return fieldString(queue.arguments['x-queue-type']) ?? 'classic';
}

/** Warren's addition for stream queues: the log's extent and each consumer's offset and lag. */
function streamJson(queue: QueueView): Record<string, unknown> {
  const figures = queue.streamFigures?.();
  if (figures === undefined) return {};
  return {
    stream: {
      segments: figures.segments,
      bytes: figures.bytes,
      first_offset: figures.firstOffset,
      last_offset: figures.nextOffset - 1,
      consumers: figures.consumers.map((c) => ({ consumer_tag: c.tag, offset: c.offset, lag: c.lag, active: c.active })),
      stored_offsets: figures.stored.map((s) => ({ reference: s.reference, offset: s.offset, lag: s.lag })),
    },
  };
}

export function queueJson(context: ManagementContext, queue: QueueView): Record<string, unknown> {
  const ready = queue.readyCount();
  const unacked = queue.unackedCount();
  return {
    name: queue.name,
    vhost: queue.vhost.name,
    durable: queue.durable,
    auto_delete: queue.autoDelete,
    exclusive: queue.exclusiveOwner !== undefined,
    arguments: tableToJson(queue.arguments),
    node: context.cluster?.ownerOf(queue.vhost.name, queue.name) ?? context.nodeName,
    type: queueType(context, queue),
    state: 'running',
    policy: queue.vhost.policies.policyOf(queue)?.name ?? null,
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
    message_bytes: queue.readyBytes(),
    message_bytes_ready: queue.readyBytes(),
    consumers: queue.consumerCount(),
    message_stats: context.rates.queueStats(queue),
    ...streamJson(queue),
  };
}

export function exchangeJson(context: ManagementContext, exchange: Exchange): Record<string, unknown> {
  return {
    name: exchange.name,
    vhost: exchange.vhost.name,
    type: exchange.type,
    durable: exchange.durable,
    auto_delete: exchange.autoDelete,
    internal: exchange.internal,
    arguments: tableToJson(exchange.arguments),
    message_stats: context.rates.exchangeStats(exchange),
  };
}

/** RabbitMQ's quote_plus with '~' escaped too, since '~' separates the arguments hash. */
function quoteRoutingKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Names one binding among those between a source and a destination in URLs: the quoted routing key,
 * plus '~' and a short hash of the arguments when there are any ('~' alone for an empty key).
 */
export function propertiesKey(routingKey: string, args: Record<string, unknown>): string {
  const argsKey = fieldTableKey(args as never);
  if (Object.keys(args).length === 0) return routingKey === '' ? '~' : quoteRoutingKey(routingKey);
  const hash = createHash('sha256').update(argsKey).digest('base64url').slice(0, 6);
  return `${quoteRoutingKey(routingKey)}~${hash}`;
}

export type BindingRow = {
  source: string;
  vhost: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
};

export function bindingJson(binding: Binding): BindingRow {
  return {
    source: binding.source.name,
    vhost: binding.source.vhost.name,
    destination: binding.destination.name,
    destination_type: binding.destination.kind,
    routing_key: binding.routingKey,
    arguments: tableToJson(binding.arguments),
    properties_key: propertiesKey(binding.routingKey, binding.arguments),
  };
}

/** The default exchange's implicit binding to a queue, which RabbitMQ lists too. */
export function defaultBindingJson(queue: QueueView): BindingRow {
  return {
    source: '',
    vhost: queue.vhost.name,
    destination: queue.name,
    destination_type: 'queue',
    routing_key: queue.name,
    arguments: {},
    properties_key: propertiesKey(queue.name, {}),
  };
}

/** Every binding of a vhost, the default exchange's implicit ones first (RabbitMQ's order). */
export function vhostBindings(vhost: VHost): BindingRow[] {
  const rows: BindingRow[] = [];
  for (const queue of vhost.queues.values()) rows.push(defaultBindingJson(queue));
  for (const exchange of vhost.exchanges.values()) {
    for (const binding of exchange.bindings.values()) rows.push(bindingJson(binding));
  }
  return rows;
}
