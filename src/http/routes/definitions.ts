import type { FastifyInstance } from 'fastify';
import { requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { exportDefinitions, exportVhostDefinitions, importDefinitions } from '../definitions.js';
import { requireVhost } from './shared.js';

/** Imports answer 204 like RabbitMQ, with what was skipped in a header for scripts that care. */
const SKIPPED_HEADER = 'x-warren-skipped';

export function registerDefinitionRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: { download?: string } }>('/api/definitions', async (request, reply) => {
    requireAdministrator(request.managementUser);
    if (request.query.download !== undefined) void reply.header('content-disposition', `attachment; filename="${request.query.download}"`);
    return exportDefinitions(context);
  });

  app.get<{ Params: { vhost: string } }>('/api/definitions/:vhost', async (request) => {
    requireAdministrator(request.managementUser);
    return exportVhostDefinitions(context, requireVhost(context, request.params.vhost));
  });

  app.post('/api/definitions', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const report = importDefinitions(context, request.body);
    if (report.skipped.length !== 0) void reply.header(SKIPPED_HEADER, report.skipped.join(', '));
    return reply.code(204).send();
  });

  app.post<{ Params: { vhost: string } }>('/api/definitions/:vhost', async (request, reply) => {
    requireAdministrator(request.managementUser);
    requireVhost(context, request.params.vhost);
    const report = importDefinitions(context, request.body, request.params.vhost);
    if (report.skipped.length !== 0) void reply.header(SKIPPED_HEADER, report.skipped.join(', '));
    return reply.code(204).send();
  });
}
