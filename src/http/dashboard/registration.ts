import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/**
 * The hook for a web dashboard: a Fastify plugin that serves its static assets (and whatever pages it
 * needs) outside `/api` and `/metrics`, which the management API owns. Pass it as
 * `new HttpServer(sources, { ..., dashboard })`; requests it serves skip API authentication, so the
 * dashboard's own pages call /api with the user's credentials like any other client.
 */
export type DashboardPlugin = FastifyPluginAsync;

export function registerDashboard(app: FastifyInstance, dashboard: DashboardPlugin): void {
  void app.register(dashboard);
}
