import type { FastifyInstance } from 'fastify';
import type { VHost } from '../../broker/vhost.js';
import { requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { visibleVhosts } from './shared.js';

function vhostJson(context: ManagementContext, vhost: VHost): Record<string, unknown> {
  let ready = 0;
  let unacked = 0;
  for (const queue of vhost.queues.values()) {
    ready += queue.readyCount();
    unacked += queue.unackedCount();
  }
  return {
    name: vhost.name,
    description: '',
    tags: [],
    tracing: false,
    cluster_state: { [context.nodeName]: 'running' },
    messages: ready + unacked,
    messages_ready: ready,
    messages_unacknowledged: unacked,
  };
}

/**
 * Creates a vhost; the creating user gets full permissions on it, as RabbitMQ's API does. Returns
 * whether it was new.
 */
export function createVhost(context: ManagementContext, name: string, creator: string | undefined): boolean {
  const existed = context.broker.getVhost(name) !== undefined;
  context.broker.addVhost(name);
  if (!existed && creator !== undefined && context.users.getUser(creator) !== undefined) {
    context.users.setPermissions(creator, name, { configure: '.*', write: '.*', read: '.*' });
  }
  return !existed;
}

export function registerVhostRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/vhosts', async (request) =>
    shapeList(visibleVhosts(context, request.managementUser).map((v) => vhostJson(context, v)), request.query),
  );

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/vhosts/:vhost', async (request) => {
    const [vhost] = visibleVhosts(context, request.managementUser, request.params.vhost);
    return shapeItem(vhostJson(context, vhost!), request.query);
  });

  app.put<{ Params: { vhost: string } }>('/api/vhosts/:vhost', async (request, reply) => {
    requireAdministrator(request.managementUser);
    bodyObject(request.body); // description, tags, tracing: accepted, not kept
    const created = createVhost(context, request.params.vhost, request.managementUser.name);
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: { vhost: string } }>('/api/vhosts/:vhost', async (request, reply) => {
    requireAdministrator(request.managementUser);
    if (context.broker.getVhost(request.params.vhost) === undefined) throw objectNotFound();
    context.broker.deleteVhost(request.params.vhost);
    context.users.clearVhost(request.params.vhost);
    return reply.code(204).send();
  });
}
