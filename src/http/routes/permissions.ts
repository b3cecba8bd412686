import type { FastifyInstance } from 'fastify';
import type { PermissionEntry } from '../../auth/users.js';
import { requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';

export function permissionJson(entry: PermissionEntry): Record<string, unknown> {
  return { user: entry.user, vhost: entry.vhost, configure: entry.configure, write: entry.write, read: entry.read };
}

function patterns(body: Record<string, unknown>): { configure: string; write: string; read: string } {
  const missing = ['configure', 'write', 'read'].filter((key) => typeof body[key] !== 'string');
  if (missing.length !== 0) throw badRequest(`[${missing.map((key) => `{key_missing,${key}}`).join(',')}]`);
  return { configure: body['configure'] as string, write: body['write'] as string, read: body['read'] as string };
}

/** Grants a user permissions on a vhost; 400 "vhost_or_user_not_found" as RabbitMQ. Returns whether new. */
export function putPermissions(context: ManagementContext, user: string, vhost: string, body: Record<string, unknown>): boolean {
  const grant = patterns(body);
  if (context.users.getUser(user) === undefined || context.broker.getVhost(vhost) === undefined) {
    throw badRequest('vhost_or_user_not_found');
  }
  const existed = context.users.permissions(user, vhost) !== undefined;
  context.users.setPermissions(user, vhost, grant);
  return !existed;
}

export function registerPermissionRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/permissions', async (request) => {
    requireAdministrator(request.managementUser);
    return shapeList(context.users.listPermissions().map(permissionJson), request.query);
  });

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/vhosts/:vhost/permissions', async (request) => {
    requireAdministrator(request.managementUser);
    if (context.broker.getVhost(request.params.vhost) === undefined) throw objectNotFound();
    const rows = context.users.listPermissions().filter((p) => p.vhost === request.params.vhost);
    return shapeList(rows.map(permissionJson), request.query);
  });

  app.get<{ Params: { vhost: string; user: string }; Querystring: ListQuery }>('/api/permissions/:vhost/:user', async (request) => {
    requireAdministrator(request.managementUser);
    const { vhost, user } = request.params;
    const row = context.users.listPermissions().find((p) => p.vhost === vhost && p.user === user);
    if (row === undefined) throw objectNotFound();
    return shapeItem(permissionJson(row), request.query);
  });

  app.put<{ Params: { vhost: string; user: string } }>('/api/permissions/:vhost/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const created = putPermissions(context, request.params.user, request.params.vhost, bodyObject(request.body));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: { vhost: string; user: string } }>('/api/permissions/:vhost/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const { vhost, user } = request.params;
    if (context.users.permissions(user, vhost) === undefined) throw objectNotFound();
    context.users.clearPermissions(user, vhost);
    return reply.code(204).send();
  });
}
