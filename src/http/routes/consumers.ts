import type { FastifyInstance } from 'fastify';
import { Channel } from '../../amqp/channel.js';
import { AmqpConnection } from '../../amqp/connection.js';
import { AmqpConsumer } from '../../amqp/channel/consumer.js';
import type { Consumer } from '../../broker/consumer.js';
import type { Queue } from '../../broker/queue/queue.js';
import type { ManagementContext } from '../context.js';
import { tableToJson } from '../format.js';
import { shapeList, type ListQuery } from '../query.js';
import { channelName } from './channels.js';
import { visibleVhosts } from './shared.js';

/** Finds the AMQP channel a consumer was created on (management only, so a scan is fine). */
function channelDetails(consumer: Consumer): Record<string, unknown> | undefined {
  const connection = consumer.owner;
  if (!(connection instanceof AmqpConnection)) return undefined;
  for (const [id, channel] of connection.openChannels()) {
    if (!(channel instanceof Channel) || channel.consumers.get(consumer.tag) !== consumer) continue;
    return {
      name: channelName(connection, id),
      number: id,
      connection_name: connection.name,
      peer_host: connection.peerHost,
      peer_port: connection.peerPort,
      user: connection.info().user ?? null,
    };
  }
  return undefined;
}

export function consumerJson(context: ManagementContext, queue: Queue, consumer: Consumer): Record<string, unknown> {
  return {
    consumer_tag: consumer.tag,
    queue: { name: queue.name, vhost: queue.vhost.name },
    channel_details: channelDetails(consumer) ?? {},
    ack_required: !consumer.noAck,
    exclusive: consumer.exclusive,
    prefetch_count: consumer instanceof AmqpConsumer ? consumer.prefetch : 0,
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
