import type { FastifyInstance } from 'fastify';
import { channelName, type ChannelInfo, type ConnectionView } from '../../session/views.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { visibleConnections } from './shared.js';

function channelJson(context: ManagementContext, connection: ConnectionView, channel: ChannelInfo): Record<string, unknown> {
  const info = connection.info();
  return {
    name: channelName(connection, channel.number),
    number: channel.number,
    node: context.nodeName,
    user: info.user ?? null,
    vhost: info.vhost ?? null,
    connection_details: { name: connection.name, peer_host: info.peerHost, peer_port: info.peerPort },
    state: channel.state,
    consumer_count: channel.consumerCount,
    prefetch_count: channel.prefetchCount,
    global_prefetch_count: channel.globalPrefetchCount,
    messages_unacknowledged: channel.unacknowledged,
    confirm: channel.confirm,
    transactional: channel.transactional,
  };
}

/** The open channels of one connection, of whatever front door. */
export function channelsOf(context: ManagementContext, connection: ConnectionView): Record<string, unknown>[] {
  return connection.channels().map((channel) => channelJson(context, connection, channel));
}

export function registerChannelRoutes(app: FastifyInstance, context: ManagementContext): void {
  const all = (connections: ConnectionView[]): Record<string, unknown>[] => connections.flatMap((c) => channelsOf(context, c));

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
