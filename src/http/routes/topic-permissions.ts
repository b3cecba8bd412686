/**
 * RabbitMQ's topic permissions in the management API (/api/topic-permissions...): list, one user's
 * rows in a vhost, PUT one exchange's patterns ({exchange, write, read}), DELETE all of a user's rows
 * in a vhost (or one exchange's with ?exchange=, as `rabbitmqctl clear_topic_permissions` can).
 */
import type { FastifyInstance } from 'fastify';
import type { TopicPermissionEntry } from '../../auth/topic-permissions.js';
import { requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeList, type ListQuery } from '../query.js';

export function topicPermissionJson(entry: TopicPermissionEntry): Record<string, unknown> {
  return { user: entry.user, vhost: entry.vhost, exchange: entry.exchange, write: entry.write, read: entry.read };
}

/** Sets one exchange's topic permission; 400 "vhost_or_user_not_found" as RabbitMQ. Returns whether new. */
export function putTopicPermissions(context: ManagementContext, user: string, vhost: string, body: Record<string, unknown>): boolean {
  const missing = ['exchange', 'write', 'read'].filter((key) => typeof body[key] !== 'string');
  if (missing.length !== 0) throw badRequest(`[${missing.map((key) => `{key_missing,${key}}`).join(',')}]`);
  if (context.users.getUser(user) === undefined || context.broker.getVhost(vhost) === undefined) throw badRequest('vhost_or_user_not_found');
  const exchange = body['exchange'] as string;
  const existed = context.users.listTopicPermissions().some((r) => r.user === user && r.vhost === vhost && r.exchange === exchange);
  try {
    context.users.setTopicPermissions(user, vhost, exchange, { write: body['write'] as string, read: body['read'] as string });
  } catch (error) {
    throw badRequest((error as Error).message);
  }
  return !existed;
}

export function registerTopicPermissionRoutes(app: FastifyInstance, context: ManagementContext): void {
  const rows = (filter: (r: TopicPermissionEntry) => boolean): Record<string, unknown>[] => context.users.listTopicPermissions().filter(filter).map(topicPermissionJson);

  app.get<{ Querystring: ListQuery }>('/api/topic-permissions', async (request) => {
    requireAdministrator(request.managementUser);
    return shapeList(rows(() => true), request.query);
  });

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/vhosts/:vhost/topic-permissions', async (request) => {
    requireAdministrator(request.managementUser);
    if (context.broker.getVhost(request.params.vhost) === undefined) throw objectNotFound();
    return shapeList(rows((r) => r.vhost === request.params.vhost), request.query);
  });

  app.get<{ Params: { user: string }; Querystring: ListQuery }>('/api/users/:user/topic-permissions', async (request) => {
    requireAdministrator(request.managementUser);
    if (context.users.getUser(request.params.user) === undefined) throw objectNotFound();
    return shapeList(rows((r) => r.user === request.params.user), request.query);
  });

  app.get<{ Params: { vhost: string; user: string }; Querystring: ListQuery }>('/api/topic-permissions/:vhost/:user', async (request) => {
    requireAdministrator(request.managementUser);
    const { vhost, user } = request.params;
    const found = rows((r) => r.vhost === vhost && r.user === user);
    if (found.length === 0) throw objectNotFound();
    return shapeList(found, request.query);
  });

  app.put<{ Params: { vhost: string; user: string } }>('/api/topic-permissions/:vhost/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const created = putTopicPermissions(context, request.params.user, request.params.vhost, bodyObject(request.body));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: { vhost: string; user: string }; Querystring: { exchange?: string } }>('/api/topic-permissions/:vhost/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const { vhost, user } = request.params;
    if (!context.users.clearTopicPermissions(user, vhost, request.query.exchange)) throw objectNotFound();
    return reply.code(204).send();
  });
}
