import type { FastifyInstance } from 'fastify';
import type { ConnectionView } from '../../session/views.js';
import type { User } from '../../auth/users.js';
import { isAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { fieldString } from '../../broker/message.js';
import { tableToJson } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { channelsOf } from './channels.js';
import { visibleConnections } from './shared.js';

/** Text the client sees in connection.close 320 when an operator closes it (RabbitMQ's wording). */
export const CLOSED_VIA_API = 'Closed via management plugin';

export function connectionJson(context: ManagementContext, connection: ConnectionView): Record<string, unknown> {
  const info = connection.info();
  return {
    name: info.name,
    node: context.nodeName,
    type: 'network',
    protocol: info.protocol,
    peer_host: info.peerHost,
    peer_port: info.peerPort,
    user: info.user ?? null,
    vhost: info.vhost ?? null,
    state: info.state,
    channels: info.channels,
    client_properties: tableToJson(info.clientProperties),
    user_provided_name: fieldString(info.clientProperties['connection_name']) ?? null,
    connected_at: info.connectedAt,
    recv_oct: info.bytesIn,
    send_oct: info.bytesOut,
    frame_max: info.frameMax,
    channel_max: info.channelMax,
    timeout: info.heartbeat,
    ssl: info.tls,
    auth_mechanism: info.authMechanism,
    // Warren's addition for request-based doors (SQS): a row is a client identity, not a socket.
    ...(info.requests === undefined ? {} : { requests: info.requests }),
    ...(info.lastSeenAt === undefined ? {} : { last_seen: info.lastSeenAt }),
  };
}

function findConnection(context: ManagementContext, user: User, name: string): ConnectionView {
  const connection = visibleConnections(context, user).find((c) => c.name === name);
  if (connection === undefined) throw objectNotFound();
  return connection;
}

export function registerConnectionRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/connections', async (request) =>
    shapeList(visibleConnections(context, request.managementUser).map((c) => connectionJson(context, c)), request.query),
  );

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/vhosts/:vhost/connections', async (request) => {
    const rows = visibleConnections(context, request.managementUser).filter((c) => c.info().vhost === request.params.vhost);
    return shapeList(rows.map((c) => connectionJson(context, c)), request.query);
  });

  app.get<{ Params: { name: string }; Querystring: ListQuery }>('/api/connections/:name', async (request) =>
    shapeItem(connectionJson(context, findConnection(context, request.managementUser, request.params.name)), request.query),
  );

  app.get<{ Params: { name: string }; Querystring: ListQuery }>('/api/connections/:name/channels', async (request) => {
    const connection = findConnection(context, request.managementUser, request.params.name);
    return shapeList(channelsOf(context, connection), request.query);
  });

  // Closes with connection.close 320 CONNECTION_FORCED; an X-Reason header replaces the reason text.
  app.delete<{ Params: { name: string } }>('/api/connections/:name', async (request, reply) => {
    const user = request.managementUser;
    const connection = findConnection(context, user, request.params.name);
    if (!isAdministrator(user) && connection.info().user !== user.name) throw objectNotFound();
    const reason = request.headers['x-reason'];
    void connection.forceClose(typeof reason === 'string' && reason !== '' ? reason : CLOSED_VIA_API);
    return reply.code(204).send();
  });
}
