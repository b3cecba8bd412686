import type { FastifyInstance } from 'fastify';
import type { Consumer } from '../../broker/front-door.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { ManagementContext } from '../context.js';
import { tableToJson } from '../format.js';
import { shapeList, type ListQuery } from '../query.js';
import { visibleVhosts } from './shared.js';

/** The channel a consumer was created on, as its front door describes it. */
function channelDetails(consumer: Consumer): Record<string, unknown> {
  const channel = consumer.describe?.().channel;
  if (channel === undefined) return {};
  return {
    name: channel.name,
    number: channel.number,
    connection_name: channel.connectionName,
    peer_host: channel.peerHost,
    peer_port: channel.peerPort,
    user: channel.user ?? null,
  };
}

export function consumerJson(context: ManagementContext, queue: QueueView, consumer: Consumer): Record<string, unknown> {
  return {
    consumer_tag: consumer.tag,
    queue: { name: queue.name, vhost: queue.vhost.name },
    channel_details: channelDetails(consumer),
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    prefetch_count: consumer.describe?.().prefetchCount ?? 0,
    active: true,
    activity_status: 'up',
    arguments: tableToJson(consumer.arguments),
    node: context.nodeName,
  };
}

export function registerConsumerRoutes(app: FastifyInstance, context: ManagementContext): void {
  const list = (user: Parameters<typeof visibleVhosts>[1], only?: string): Record<string, unknown>[] =>
    visibleVhosts(context, user, only).flatMap((vhost) =>
      [...vhost.queues.values()].flatMap((queue) => queue.consumers.map((consumer) => consumerJson(context, queue, consumer))),
    );

  app.get<{ Querystring: ListQuery }>('/api/consumers', async (request) => shapeList(list(request.managementUser), request.query));
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/consumers/:vhost', async (request) =>
    shapeList(list(request.managementUser, request.params.vhost), request.query),
  );
}
