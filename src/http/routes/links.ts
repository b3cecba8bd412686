import type { FastifyInstance } from 'fastify';
import type { User } from '../../auth/users.js';
import { canSeeVhost, isPolicymaker } from '../auth.js';
import type { ManagementContext, ShovelRow } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { requireVhost } from './shared.js';

/**
 * The shovel and federation plugins' status resources: /api/shovels (rabbitmq_shovel_management's
 * shape) and /api/federation-links (rabbitmq_federation_management's). URIs come without passwords.
 */

/** RabbitMQ's status timestamp: "2024-05-01 10:00:00" (here in UTC). */
function timestamp(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

export function shovelJson(context: ManagementContext, row: ShovelRow): Record<string, unknown> {
  const base: Record<string, unknown> = { node: context.nodeName, timestamp: timestamp(row.since), name: row.name, vhost: row.vhost, type: row.type, state: row.state };
  if (row.state === 'terminated') return { ...base, reason: row.reason ?? 'unknown', message_stats: stats(row) };
  if (row.state === 'starting') return { ...base, message_stats: stats(row) };
  return {
    ...base,
    src_uri: row.srcUri,
    src_protocol: 'amqp091',
    ...row.source,
    dest_uri: row.destUri,
    dest_protocol: 'amqp091',
    ...row.dest,
    message_stats: stats(row),
  };
}

/** Warren's addition: how much a shovel moved, in the management API's message_stats form. */
function stats(row: ShovelRow): Record<string, unknown> {
  return { transferred: row.transferred, transferred_details: { rate: row.rate } };
}

function visibleShovels(context: ManagementContext, user: User, vhost?: string): ShovelRow[] {
  return [...(context.links?.shovels() ?? [])].filter(
    (row) => (vhost === undefined || row.vhost === vhost) && canSeeVhost(context.users, user, row.vhost),
  );
}

export function registerLinkRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/shovels', async (request) =>
    shapeList(visibleShovels(context, request.managementUser).map((row) => shovelJson(context, row)), request.query),
  );
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/shovels/:vhost', async (request) => {
    requireVhost(context, request.params.vhost);
    return shapeList(visibleShovels(context, request.managementUser, request.params.vhost).map((row) => shovelJson(context, row)), request.query);
  });
  app.get<{ Params: { vhost: string; name: string }; Querystring: ListQuery }>('/api/shovels/vhost/:vhost/:name', async (request) => {
    const row = visibleShovels(context, request.managementUser, request.params.vhost).find((r) => r.name === request.params.name);
    if (row === undefined) throw objectNotFound();
    return shapeItem(shovelJson(context, row), request.query);
  });
  app.delete<{ Params: { vhost: string; name: string } }>('/api/shovels/vhost/:vhost/:name/restart', async (request, reply) => {
    if (!isPolicymaker(request.managementUser)) throw notAuthorised('Not policymaker user');
    if (context.links?.restartShovel(request.params.vhost, request.params.name) !== true) throw objectNotFound();
    return reply.code(204).send();
  });
  app.get<{ Querystring: ListQuery }>('/api/federation-links', async (request) => {
    const rows = (context.links?.federationLinks() ?? []).filter((row) => canSeeVhost(context.users, request.managementUser, row.vhost));
    return shapeList(rows.map((row) => ({ node: context.nodeName, ...row })), request.query);
  });
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/federation-links/:vhost', async (request) => {
    requireVhost(context, request.params.vhost);
    const rows = (context.links?.federationLinks() ?? []).filter(
      (row) => row.vhost === request.params.vhost && canSeeVhost(context.users, request.managementUser, row.vhost),
    );
    return shapeList(rows.map((row) => ({ node: context.nodeName, ...row })), request.query);
  });
}
