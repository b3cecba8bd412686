import type { FastifyInstance } from 'fastify';
import { Channel } from '../../amqp/channel.js';
import type { AmqpConnection } from '../../amqp/connection.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { visibleConnections } from './shared.js';

/** "<connection name> (<channel number>)", RabbitMQ's channel name. */
export function channelName(connection: AmqpConnection, id: number): string {
  return `${connection.name} (${id})`;
}

function channelJson(context: ManagementContext, connection: AmqpConnection, id: number, channel: Channel): Record<string, unknown> {
  const info = connection.info();
  return {
    name: channelName(connection, id),
    number: id,
    node: context.nodeName,
    user: info.user ?? null,
    vhost: info.vhost ?? null,
    connection_details: { name: connection.name, peer_host: connection.peerHost, peer_port: connection.peerPort },
    state: channel.flowActive ? 'running' : 'flow',
    consumer_count: channel.consumers.size,
    prefetch_count: channel.consumerPrefetch,
    global_prefetch_count: channel.channelPrefetch,
    messages_unacknowledged: channel.acks.outstanding,
    confirm: channel.confirms !== undefined,
    transactional: channel.tx !== undefined,
  };
}

/** The open channels of one connection (only the channel layer's own Channel objects carry details). */
export function channelsOf(context: ManagementContext, connection: AmqpConnection): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (const [id, channel] of connection.openChannels()) {
    if (channel instanceof Channel) rows.push(channelJson(context, connection, id, channel));
  }
  return rows;
}

export function registerChannelRoutes(app: FastifyInstance, context: ManagementContext): void {
  const all = (connections: AmqpConnection[]): Record<string, unknown>[] => connections.flatMap((c) => channelsOf(context, c));

  app.get<{ Querystring: ListQuery }>('/api/channels', async (request) =>
    shapeList(all(visibleConnections(context, request.managementUser)), request.query),
  );

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/vhosts/:vhost/channels', async (request) => {
    const connections = visibleConnections(context, request.managementUser).filter((c) => c.info().vhost === request.params.vhost);
    return shapeList(all(connections), request.query);
  });

  app.get<{ Params: { name: string }; Querystring: ListQuery }>('/api/channels/:name', async (request) => {
    const row = all(visibleConnections(context, request.managementUser)).find((c) => c['name'] === request.params.name);
    if (row === undefined) throw objectNotFound();
    return shapeItem(row, request.query);
  });
}
