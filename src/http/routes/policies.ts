import type { FastifyInstance } from 'fastify';
import type { ManagementContext } from '../context.js';
import { notImplemented, objectNotFound } from '../errors.js';
import { shapeList, type ListQuery } from '../query.js';
import { requireVhost } from './shared.js';

const NOT_YET = 'policies and runtime parameters are not supported by Warren yet';

/**
 * Policies, operator policies and runtime parameters: Warren has none yet, so lists are empty, single
 * objects are 404 and changes answer 501 (definitions imports skip them with a warning instead).
 */
export function registerPolicyRoutes(app: FastifyInstance, context: ManagementContext): void {
  for (const resource of ['policies', 'operator-policies', 'parameters', 'global-parameters']) {
    app.get<{ Querystring: ListQuery }>(`/api/${resource}`, async (request) => shapeList([], request.query));
  }
  for (const resource of ['policies', 'operator-policies']) {
    app.get<{ Params: { vhost: string }; Querystring: ListQuery }>(`/api/${resource}/:vhost`, async (request) => {
      requireVhost(context, request.params.vhost);
      return shapeList([], request.query);
    });
    app.get(`/api/${resource}/:vhost/:name`, async () => {
      throw objectNotFound();
    });
    for (const method of ['PUT', 'DELETE'] as const) {
      app.route({ method, url: `/api/${resource}/:vhost/:name`, handler: async () => { throw notImplemented(NOT_YET); } });
    }
  }
}
