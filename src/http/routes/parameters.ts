import type { FastifyInstance } from 'fastify';
import type { User } from '../../auth/users.js';
import type { RuntimeParameter } from '../../broker/parameters/runtime-parameters.js';
import { OPERATOR_POLICY_COMPONENT, type OperatorPolicyValue } from '../../broker/parameters/operator-policies.js';
import { redactSecrets } from '../../util/uri-secrets.js';
import { isAdministrator, isPolicymaker, requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, notAuthorised, objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { requireVhost } from './shared.js';

/**
 * RabbitMQ's runtime parameters (/api/parameters/{component}/{vhost}/{name}), global parameters
 * (/api/global-parameters/{name}) and operator policies (/api/operator-policies/{vhost}/{name}, kept as
 * parameters of the component `operator_policy`, as RabbitMQ does). Values are shown with the passwords
 * of URIs redacted; the definitions export keeps them whole (a re-import must be able to connect).
 */

/** RabbitMQ lists policies apart from the other parameters. */
const POLICY_COMPONENTS: ReadonlySet<string> = new Set([OPERATOR_POLICY_COMPONENT]);

export function parameterJson(p: RuntimeParameter, redact = true): Record<string, unknown> {
  return { vhost: p.vhost, component: p.component, name: p.name, value: redact ? redactSecrets(p.value) : p.value };
}

export function operatorPolicyJson(p: RuntimeParameter): Record<string, unknown> {
  const v = p.value as OperatorPolicyValue;
  return { vhost: p.vhost, name: p.name, pattern: v.pattern, 'apply-to': v['apply-to'], definition: { ...v.definition }, priority: v.priority };
}

/** The body of PUT /api/operator-policies/{vhost}/{name} as the stored value (RabbitMQ's defaults). */
export function operatorPolicyValue(body: Record<string, unknown>): unknown {
  const missing = ['pattern', 'definition'].filter((key) => body[key] === undefined);
  if (missing.length !== 0) throw badRequest(`[${missing.map((key) => `{key_missing,${key}}`).join(',')}]`);
  const priority = typeof body['priority'] === 'string' && /^-?[0-9]+$/.test(body['priority']) ? Number(body['priority']) : (body['priority'] ?? 0);
  return { pattern: body['pattern'], definition: body['definition'], priority, 'apply-to': body['apply-to'] ?? 'queues' };
}

function requirePolicymaker(context: ManagementContext, user: User, vhost?: string): void {
  if (!isPolicymaker(user)) throw notAuthorised('Not policymaker user');
  if (vhost !== undefined) {
    requireVhost(context, vhost);
    if (!isAdministrator(user) && !context.users.canAccessVhost(user, vhost)) throw notAuthorised('Access refused.');
  }
}

function visibleParameters(context: ManagementContext, user: User, filter: { component?: string; vhost?: string }): RuntimeParameter[] {
  return context.broker.parameters
    .list(filter)
    .filter((p) => !POLICY_COMPONENTS.has(p.component) || filter.component === p.component)
    .filter((p) => isAdministrator(user) || context.users.canAccessVhost(user, p.vhost));
}

export function registerParameterRoutes(app: FastifyInstance, context: ManagementContext): void {
  registerRuntimeParameters(app, context);
  registerGlobalParameters(app, context);
  registerOperatorPolicies(app, context);
}

type Params = { component: string; vhost: string; name: string };

function registerRuntimeParameters(app: FastifyInstance, context: ManagementContext): void {
  const parameters = context.broker.parameters;
  app.get<{ Querystring: ListQuery }>('/api/parameters', async (request) => {
    requirePolicymaker(context, request.managementUser);
    return shapeList(visibleParameters(context, request.managementUser, {}).map((p) => parameterJson(p)), request.query);
  });
  app.get<{ Params: { component: string }; Querystring: ListQuery }>('/api/parameters/:component', async (request) => {
    requirePolicymaker(context, request.managementUser);
    const rows = visibleParameters(context, request.managementUser, { component: request.params.component });
    return shapeList(rows.map((p) => parameterJson(p)), request.query);
  });
  app.get<{ Params: Omit<Params, 'name'>; Querystring: ListQuery }>('/api/parameters/:component/:vhost', async (request) => {
    requirePolicymaker(context, request.managementUser, request.params.vhost);
    const rows = parameters.list({ component: request.params.component, vhost: request.params.vhost });
    return shapeList(rows.map((p) => parameterJson(p)), request.query);
  });
  app.get<{ Params: Params; Querystring: ListQuery }>('/api/parameters/:component/:vhost/:name', async (request) => {
    const { component, vhost, name } = request.params;
    requirePolicymaker(context, request.managementUser, vhost);
    const parameter = parameters.get(component, vhost, name);
    if (parameter === undefined) throw objectNotFound();
    return shapeItem(parameterJson(parameter), request.query);
  });
  app.put<{ Params: Params }>('/api/parameters/:component/:vhost/:name', async (request, reply) => {
    const { component, vhost, name } = request.params;
    requirePolicymaker(context, request.managementUser, vhost);
    const body = bodyObject(request.body);
    if (!('value' in body)) throw badRequest('[{key_missing,value}]');
    const created = parameters.set(component, vhost, name, body['value']);
    return reply.code(created ? 201 : 204).send();
  });
  app.delete<{ Params: Params }>('/api/parameters/:component/:vhost/:name', async (request, reply) => {
    const { component, vhost, name } = request.params;
    requirePolicymaker(context, request.managementUser, vhost);
    if (!parameters.delete(component, vhost, name)) throw objectNotFound();
    return reply.code(204).send();
  });
}

function registerGlobalParameters(app: FastifyInstance, context: ManagementContext): void {
  const parameters = context.broker.parameters;
  app.get<{ Querystring: ListQuery }>('/api/global-parameters', async (request) => {
    requireAdministrator(request.managementUser);
    return shapeList(parameters.listGlobal().map((p) => ({ name: p.name, value: redactSecrets(p.value) })), request.query);
  });
  app.get<{ Params: { name: string }; Querystring: ListQuery }>('/api/global-parameters/:name', async (request) => {
    requireAdministrator(request.managementUser);
    const parameter = parameters.getGlobal(request.params.name);
    if (parameter === undefined) throw objectNotFound();
    return shapeItem({ name: parameter.name, value: redactSecrets(parameter.value) }, request.query);
  });
  app.put<{ Params: { name: string } }>('/api/global-parameters/:name', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const body = bodyObject(request.body);
    if (!('value' in body)) throw badRequest('[{key_missing,value}]');
    const created = parameters.setGlobal(request.params.name, body['value']);
    return reply.code(created ? 201 : 204).send();
  });
  app.delete<{ Params: { name: string } }>('/api/global-parameters/:name', async (request, reply) => {
    requireAdministrator(request.managementUser);
    if (!parameters.deleteGlobal(request.params.name)) throw objectNotFound();
    return reply.code(204).send();
  });
}

function registerOperatorPolicies(app: FastifyInstance, context: ManagementContext): void {
  const parameters = context.broker.parameters;
  const rows = (user: User, vhost?: string): Record<string, unknown>[] =>
    visibleParameters(context, user, { component: OPERATOR_POLICY_COMPONENT, ...(vhost === undefined ? {} : { vhost }) }).map(operatorPolicyJson);
  // RabbitMQ: operator policies are for administrators.
  app.get<{ Querystring: ListQuery }>('/api/operator-policies', async (request) => {
    requireAdministrator(request.managementUser);
    return shapeList(rows(request.managementUser), request.query);
  });
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/operator-policies/:vhost', async (request) => {
    requireAdministrator(request.managementUser);
    requireVhost(context, request.params.vhost);
    return shapeList(rows(request.managementUser, request.params.vhost), request.query);
  });
  app.get<{ Params: { vhost: string; name: string }; Querystring: ListQuery }>('/api/operator-policies/:vhost/:name', async (request) => {
    requireAdministrator(request.managementUser);
    const parameter = parameters.get(OPERATOR_POLICY_COMPONENT, request.params.vhost, request.params.name);
    if (parameter === undefined) throw objectNotFound();
    return shapeItem(operatorPolicyJson(parameter), request.query);
  });
  app.put<{ Params: { vhost: string; name: string } }>('/api/operator-policies/:vhost/:name', async (request, reply) => {
    requireAdministrator(request.managementUser);
    requireVhost(context, request.params.vhost);
    const value = operatorPolicyValue(bodyObject(request.body));
    const created = parameters.set(OPERATOR_POLICY_COMPONENT, request.params.vhost, request.params.name, value);
    return reply.code(created ? 201 : 204).send();
  });
  app.delete<{ Params: { vhost: string; name: string } }>('/api/operator-policies/:vhost/:name', async (request, reply) => {
    requireAdministrator(request.managementUser);
    if (!parameters.delete(OPERATOR_POLICY_COMPONENT, request.params.vhost, request.params.name)) throw objectNotFound();
    return reply.code(204).send();
  });
}
