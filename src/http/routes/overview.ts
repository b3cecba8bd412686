import type { FastifyInstance } from 'fastify';
import { WARREN_VERSION } from '../../version.js';
import type { ManagementContext } from '../context.js';
import { shapeItem, type ListQuery } from '../query.js';
import { RABBITMQ_API_VERSION, visibleVhosts } from './shared.js';

/** What RabbitMQ's exchange_types list says about the built-in types. */
const TYPE_DESCRIPTIONS: Record<string, string> = {
  direct: 'AMQP direct exchange, as per the AMQP specification',
  fanout: 'AMQP fanout exchange, as per the AMQP specification',
  headers: 'AMQP headers exchange, as per the AMQP specification',
  topic: 'AMQP topic exchange, as per the AMQP specification',
};

export function exchangeTypes(context: ManagementContext): { name: string; description: string; enabled: boolean }[] {
  return context.broker.exchangeTypes
    .names()
    .sort()
    .map((name) => ({ name, description: TYPE_DESCRIPTIONS[name] ?? `${name} exchange`, enabled: true }));
}

/** Connections, channels and consumers counted over every listener. */
export function objectTotals(context: ManagementContext): Record<string, number> {
  let connections = 0;
  let channels = 0;
  for (const connection of context.connections()) {
    connections++;
    channels += connection.info().channels;
  }
  let queues = 0;
  let exchanges = 0;
  let consumers = 0;
  for (const vhost of context.broker.vhosts.values()) {
    queues += vhost.queues.size;
    exchanges += vhost.exchanges.size;
    for (const queue of vhost.queues.values()) consumers += queue.consumerCount();
  }
  return { connections, channels, consumers, exchanges, queues };
}

export function registerOverviewRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/overview', async (request) => {
    let ready = 0;
    let unacked = 0;
    for (const vhost of visibleVhosts(context, request.managementUser)) {
      for (const queue of vhost.queues.values()) {
        ready += queue.readyCount();
        unacked += queue.unackedCount();
      }
    }
    const overview = {
      management_version: WARREN_VERSION,
      rates_mode: 'basic',
      exchange_types: exchangeTypes(context),
      product_version: WARREN_VERSION,
      product_name: 'Warren',
      rabbitmq_version: RABBITMQ_API_VERSION,
      cluster_name: context.nodeName,
      node: context.nodeName,
      node_version: process.version,
      message_stats: context.rates.overviewStats(),
      queue_totals: { messages: ready + unacked, messages_ready: ready, messages_unacknowledged: unacked },
      object_totals: objectTotals(context),
      listeners: context.listeners().map((l) => ({ node: context.nodeName, protocol: l.protocol, ip_address: l.host, port: l.port })),
      contexts: [{ node: context.nodeName, description: 'Warren Management', path: '/' }],
    };
    return shapeItem(overview, request.query);
  });

  app.get('/api/cluster-name', async () => ({ name: context.nodeName }));
}
