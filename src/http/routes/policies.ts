import type { FastifyInstance } from 'fastify';
import type { User } from '../../auth/users.js';
import type { Policy, PolicyApplyTo, PolicySpec } from '../../broker/policies/index.js';
import type { VHost } from '../../broker/vhost.js';
import { isAdministrator, isPolicymaker } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, notAuthorised, objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { requireVhost, visibleVhosts } from './shared.js';

/** RabbitMQ's JSON for a policy (GET /api/policies, definitions files). */
export function policyJson(policy: Policy): Record<string, unknown> {
  return {
    vhost: policy.vhost,
    name: policy.name,
    pattern: policy.pattern,
    'apply-to': policy.applyTo,
    definition: { ...policy.definition },
    priority: policy.priority,
  };
}

/**
 * A priority as clients send it: a JSON number (rabbitmqadmin, the UI) or a numeric string (scripts that
 * pass rabbitmqctl-style arguments through). Anything else is left for the policy's own validation.
 */
function priorityOf(value: unknown): unknown {
  if (typeof value === 'string' && /^-?[0-9]+$/.test(value.trim())) return Number(value);
  return value;
}

/**
 * The body of PUT /api/policies/{vhost}/{name} (or a definitions file's policy) as a spec for
 * `vhost.policies.set`. Missing keys are 400 in RabbitMQ's words; values are checked by the broker.
 */
export function policySpecFromJson(body: Record<string, unknown>): PolicySpec {
  const missing = ['pattern', 'definition'].filter((key) => body[key] === undefined);
  if (missing.length !== 0) throw badRequest(`[${missing.map((key) => `{key_missing,${key}}`).join(',')}]`);
  if (typeof body['pattern'] !== 'string') throw badRequest("'pattern' must be a string");
  const spec: PolicySpec = { pattern: body['pattern'], definition: body['definition'] as Record<string, unknown> };
  if (body['apply-to'] !== undefined && body['apply-to'] !== null) spec.applyTo = body['apply-to'] as PolicyApplyTo;
  if (body['priority'] !== undefined && body['priority'] !== null) spec.priority = priorityOf(body['priority']) as number;
  return spec;
}

/** Sets a policy from its JSON; returns whether it is new. Invalid policies throw a 406 (HTTP 400). */
export function putPolicy(vhost: VHost, name: string, body: Record<string, unknown>): boolean {
  const existed = vhost.policies.get(name) !== undefined;
  vhost.policies.set(name, policySpecFromJson(body));
  return !existed;
}

/** RabbitMQ: policies are for policymakers (administrators included), and only on vhosts they can use. */
function requirePolicymaker(user: User): void {
  if (!isPolicymaker(user)) throw notAuthorised('Not policymaker user');
}

function policyVhost(context: ManagementContext, user: User, name: string): VHost {
  requirePolicymaker(user);
  const vhost = requireVhost(context, name);
  if (!isAdministrator(user) && !context.users.canAccessVhost(user, name)) throw notAuthorised('Access refused.');
  return vhost;
}

function policyRows(vhosts: readonly VHost[]): Record<string, unknown>[] {
  return vhosts.flatMap((vhost) => vhost.policies.list().map(policyJson));
}

export function registerPolicyRoutes(app: FastifyInstance, context: ManagementContext): void {
  registerPolicies(app, context);
}

function registerPolicies(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/policies', async (request) => {
    requirePolicymaker(request.managementUser);
    return shapeList(policyRows(visibleVhosts(context, request.managementUser)), request.query);
  });

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/policies/:vhost', async (request) => {
    const vhost = policyVhost(context, request.managementUser, request.params.vhost);
    return shapeList(policyRows([vhost]), request.query);
  });

  app.get<{ Params: { vhost: string; name: string }; Querystring: ListQuery }>('/api/policies/:vhost/:name', async (request) => {
    const policy = policyVhost(context, request.managementUser, request.params.vhost).policies.get(request.params.name);
    if (policy === undefined) throw objectNotFound();
    return shapeItem(policyJson(policy), request.query);
  });

  app.put<{ Params: { vhost: string; name: string } }>('/api/policies/:vhost/:name', async (request, reply) => {
    const vhost = policyVhost(context, request.managementUser, request.params.vhost);
    const created = putPolicy(vhost, request.params.name, bodyObject(request.body));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: { vhost: string; name: string } }>('/api/policies/:vhost/:name', async (request, reply) => {
    const vhost = policyVhost(context, request.managementUser, request.params.vhost);
    if (!vhost.policies.delete(request.params.name)) throw objectNotFound();
    return reply.code(204).send();
  });
}
