import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { User } from '../../auth/users.js';
import { canSeeVhost, isPolicymaker } from '../auth.js';
import type { ManagementContext, ShovelRow } from '../context.js';
import { notAuthorised, objectNotFound } from '../errors.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { forwardToOtherNodes, rowsOfOtherNodes } from './other-nodes.js';
import { requireVhost } from './shared.js';

/**
 * The shovel and federation plugins' status resources: /api/shovels (rabbitmq_shovel_management's
 * shape) and /api/federation-links (rabbitmq_federation_management's). URIs come without passwords.
 * In a cluster each link runs on one node; any node's listing carries every node's rows.
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

type LinkRow = Record<string, unknown>;

/** This node's shovel rows as JSON, then (unless ?local=true) every other node's: each runs its own. */
async function clusterShovels(context: ManagementContext, request: FastifyRequest, vhost?: string): Promise<LinkRow[]> {
  const own = visibleShovels(context, request.managementUser, vhost).map((row) => shovelJson(context, row));
  const path = vhost === undefined ? '/api/shovels' : `/api/shovels/${encodeURIComponent(vhost)}`;
  return [...own, ...(await rowsOfOtherNodes(context, request, path))];
}

async function clusterFederationLinks(context: ManagementContext, request: FastifyRequest, vhost?: string): Promise<LinkRow[]> {
  const own = (context.links?.federationLinks() ?? [])
    .filter((row) => (vhost === undefined || row.vhost === vhost) && canSeeVhost(context.users, request.managementUser, row.vhost))
    .map((row) => ({ node: context.nodeName, ...row }));
  const path = vhost === undefined ? '/api/federation-links' : `/api/federation-links/${encodeURIComponent(vhost)}`;
  return [...own, ...(await rowsOfOtherNodes(context, request, path))];
}

export function registerLinkRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/shovels', async (request) => shapeList(await clusterShovels(context, request), request.query));
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/shovels/:vhost', async (request) => {
    requireVhost(context, request.params.vhost);
    return shapeList(await clusterShovels(context, request, request.params.vhost), request.query);
  });
  app.get<{ Params: { vhost: string; name: string }; Querystring: ListQuery }>('/api/shovels/vhost/:vhost/:name', async (request) => {
    const row = (await clusterShovels(context, request, request.params.vhost)).find((r) => r['name'] === request.params.name);
    if (row === undefined) throw objectNotFound();
    return shapeItem(row, request.query);
  });
  app.delete<{ Params: { vhost: string; name: string } }>('/api/shovels/vhost/:vhost/:name/restart', async (request, reply) => {
    if (!isPolicymaker(request.managementUser)) throw notAuthorised('Not policymaker user');
    const { vhost, name } = request.params;
    const restarted =
      context.links?.restartShovel(vhost, name) === true ||
      (await forwardToOtherNodes(context, request, 'DELETE', `/api/shovels/vhost/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}/restart`));
    if (!restarted) throw objectNotFound();
    return reply.code(204).send();
  });
  app.get<{ Querystring: ListQuery }>('/api/federation-links', async (request) => shapeList(await clusterFederationLinks(context, request), request.query));
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/federation-links/:vhost', async (request) => {
    requireVhost(context, request.params.vhost);
    return shapeList(await clusterFederationLinks(context, request, request.params.vhost), request.query);
  });
}
