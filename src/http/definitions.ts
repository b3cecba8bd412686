import { WARREN_VERSION } from '../version.js';
import { Policy, type PolicySpec } from '../broker/policies/index.js';
import type { VHost } from '../broker/vhost.js';
import type { ManagementContext } from './context.js';
import { badRequest } from './errors.js';
import { tableToJson } from './format.js';
import { addBinding } from './routes/bindings.js';
import { declareExchangeFromJson } from './routes/exchanges.js';
import { permissionJson, putPermissions } from './routes/permissions.js';
import { putTopicPermissions, topicPermissionJson } from './routes/topic-permissions.js';
import { policyJson, policySpecFromJson } from './routes/policies.js';
import { parameterJson } from './routes/parameters.js';
import { OPERATOR_POLICY_COMPONENT } from '../broker/parameters/operator-policies.js';
import { declareQueueFromJson } from './routes/queues.js';
import { RABBITMQ_API_VERSION } from './routes/shared.js';
import { parseUserUpdate, putUser, userJson } from './routes/users.js';

/**
 * RabbitMQ's definitions format (export/import of users, vhosts, permissions, policies, queues,
 * exchanges, bindings). Queues and exchanges are definitions, not messages: nothing in them is a message.
 */
export interface Definitions {
  rabbit_version?: string;
  rabbitmq_version?: string;
  product_name?: string;
  product_version?: string;
  users?: unknown[];
  vhosts?: unknown[];
  permissions?: unknown[];
  topic_permissions?: unknown[];
  parameters?: unknown[];
  global_parameters?: unknown[];
  policies?: unknown[];
  queues?: unknown[];
  exchanges?: unknown[];
  bindings?: unknown[];
}

/** Predeclared exchanges are not definitions (RabbitMQ leaves out '' and amq.*). */
function isUserExchange(name: string): boolean {
  return name !== '' && !name.startsWith('amq.');
}

function withoutVhost(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([key]) => key !== 'vhost'));
}

function vhostObjects(vhost: VHost, withVhost: boolean): Pick<Definitions, 'policies' | 'queues' | 'exchanges' | 'bindings'> {
  const tag = (row: Record<string, unknown>): Record<string, unknown> => (withVhost ? { ...row, vhost: vhost.name } : row);
  const policies = vhost.policies.list().map((p) => (withVhost ? policyJson(p) : withoutVhost(policyJson(p))));
  const queues = [...vhost.queues.values()]
    .filter((q) => q.exclusiveOwner === undefined)
    .map((q) => tag({ name: q.name, durable: q.durable, auto_delete: q.autoDelete, arguments: tableToJson(q.arguments) }));
  const exchanges = [...vhost.exchanges.values()]
    .filter((x) => isUserExchange(x.name))
    .map((x) =>
      tag({ name: x.name, type: x.type, durable: x.durable, auto_delete: x.autoDelete, internal: x.internal, arguments: tableToJson(x.arguments) }),
    );
  const bindings = [...vhost.exchanges.values()]
    .filter((x) => x.name !== '')
    .flatMap((x) => [...x.bindings.values()])
    .filter((b) => b.destination.kind === 'exchange' || b.destination.exclusiveOwner === undefined)
    .map((b) =>
      tag({
        source: b.source.name,
        destination: b.destination.name,
        destination_type: b.destination.kind,
        routing_key: b.routingKey,
        arguments: tableToJson(b.arguments),
      }),
    );
  return { policies, queues, exchanges, bindings };
}

function header(): Definitions {
  return { rabbit_version: RABBITMQ_API_VERSION, rabbitmq_version: RABBITMQ_API_VERSION, product_name: 'Warren', product_version: WARREN_VERSION };
}

/** The whole broker's definitions (GET /api/definitions). */
export function exportDefinitions(context: ManagementContext): Definitions {
  const vhosts = [...context.broker.vhosts.values()];
  const objects = vhosts.map((v) => vhostObjects(v, true));
  return {
    ...header(),
    users: context.users.listUsers().map(userJson),
    vhosts: vhosts.map((v) => ({ name: v.name })),
    permissions: context.users.listPermissions().map(permissionJson),
    topic_permissions: context.users.listTopicPermissions().map(topicPermissionJson),
    parameters: exportedParameters(context),
    global_parameters: context.broker.parameters.listGlobal().map((p) => ({ name: p.name, value: p.value })),
    policies: objects.flatMap((o) => o.policies ?? []),
    queues: objects.flatMap((o) => o.queues ?? []),
    exchanges: objects.flatMap((o) => o.exchanges ?? []),
    bindings: objects.flatMap((o) => o.bindings ?? []),
  };
}

/** One vhost's definitions, without vhost fields (GET /api/definitions/{vhost}). */
export function exportVhostDefinitions(context: ManagementContext, vhost: VHost): Definitions {
  const parameters = exportedParameters(context, vhost.name).map(withoutVhost);
  return { rabbit_version: RABBITMQ_API_VERSION, parameters, ...vhostObjects(vhost, false) };
}

/**
 * Runtime parameters as RabbitMQ exports them (policy components apart), with their secrets: an export
 * is a backup and a migration file, and a shovel re-imported without its password could not connect.
 */
function exportedParameters(context: ManagementContext, vhost?: string): Record<string, unknown>[] {
  return context.broker.parameters
    .list(vhost === undefined ? {} : { vhost })
    .filter((p) => p.component !== OPERATOR_POLICY_COMPONENT)
    .map((p) => parameterJson(p, false));
}

export interface ImportReport {
  /** Things Warren does not have: skipped, not failed (none at the moment). */
  skipped: string[];
}

function records(definitions: Definitions, key: keyof Definitions): Record<string, unknown>[] {
  const list = definitions[key];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw badRequest(`${key} must be an array`);
  return list.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw badRequest(`${key}[${i}] must be an object`);
    return item as Record<string, unknown>;
  });
}

function field(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string') throw badRequest(`${where}: '${key}' must be a string`);
  return value;
}

/**
 * Imports definitions (a RabbitMQ export works as is). Existing queues and exchanges are kept as they
 * are, as RabbitMQ's import does, so importing twice is harmless. `onlyVhost` imports a per-vhost file.
 */
export function importDefinitions(context: ManagementContext, body: unknown, onlyVhost?: string): ImportReport {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('definitions must be a JSON object');
  const definitions = body as Definitions;
  const skipped: string[] = [];
  const vhostOf = (record: Record<string, unknown>, where: string): string => onlyVhost ?? field(record, 'vhost', where);
  // Checked before anything is imported: one bad policy must not leave half a file applied.
  const policies = records(definitions, 'policies').map((record) => parsePolicy(record, vhostOf(record, 'policies')));

  const parameters = records(definitions, 'parameters');
  const globals = onlyVhost === undefined ? records(definitions, 'global_parameters') : [];
  for (const parameter of parameters) {
    const vhost = vhostOf(parameter, 'parameters');
    context.broker.parameters.validate(field(parameter, 'component', 'parameters'), vhost, field(parameter, 'name', 'parameters'), parameter['value']);
  }
  if (onlyVhost === undefined) {
    for (const user of records(definitions, 'users')) putUser(context, field(user, 'name', 'users'), parseUserUpdate(user));
    for (const vhost of records(definitions, 'vhosts')) context.broker.addVhost(field(vhost, 'name', 'vhosts'));
    for (const grant of records(definitions, 'permissions')) {
      putPermissions(context, field(grant, 'user', 'permissions'), field(grant, 'vhost', 'permissions'), grant);
    }
    for (const grant of records(definitions, 'topic_permissions')) {
      putTopicPermissions(context, field(grant, 'user', 'topic_permissions'), field(grant, 'vhost', 'topic_permissions'), grant);
    }
  }
  // Before the queues, as RabbitMQ imports them: each queue gets its policy when it is declared.
  for (const { vhost, name, spec } of policies) importPolicy(context, vhost, name, spec);
  for (const queue of records(definitions, 'queues')) {
    const vhost = vhostOf(queue, 'queues');
    const name = field(queue, 'name', 'queues');
    if (context.broker.getVhost(vhost)?.getQueue(name) === undefined) declareQueueFromJson(context, vhost, name, queue);
  }
  for (const exchange of records(definitions, 'exchanges')) {
    const vhost = vhostOf(exchange, 'exchanges');
    const name = field(exchange, 'name', 'exchanges');
    if (!isUserExchange(name)) continue;
    if (context.broker.getVhost(vhost)?.getExchange(name) === undefined) declareExchangeFromJson(context, vhost, name, exchange);
  }
  for (const binding of records(definitions, 'bindings')) importBinding(context, binding, vhostOf(binding, 'bindings'));
  // After the topology: a shovel or federation link starting now finds the queues and exchanges it names.
  for (const global of globals) context.broker.parameters.setGlobal(field(global, 'name', 'global_parameters'), global['value']);
  for (const parameter of parameters) {
    const vhost = vhostOf(parameter, 'parameters');
    context.broker.parameters.set(field(parameter, 'component', 'parameters'), vhost, field(parameter, 'name', 'parameters'), parameter['value']);
  }
  if (skipped.length !== 0) context.logger.warn({ skipped }, `definitions import skipped what Warren does not support yet: ${skipped.join(', ')}`);
  return { skipped };
}

interface ImportedPolicy {
  vhost: string;
  name: string;
  spec: PolicySpec;
}

/** A definitions file's policy, validated (400 with the broker's reason) without being set yet. */
function parsePolicy(record: Record<string, unknown>, vhost: string): ImportedPolicy {
  const name = field(record, 'name', 'policies');
  const spec = policySpecFromJson(record);
  new Policy(vhost, name, spec.pattern, spec); // throws the same 406 that `policies.set` would
  return { vhost, name, spec };
}

function importPolicy(context: ManagementContext, vhostName: string, name: string, spec: PolicySpec): void {
  const vhost = context.broker.getVhost(vhostName);
  if (vhost === undefined) throw badRequest(`policies: no vhost '${vhostName}'`);
  vhost.policies.set(name, spec);
}

function importBinding(context: ManagementContext, binding: Record<string, unknown>, vhostName: string): void {
  const vhost = context.broker.getVhost(vhostName);
  if (vhost === undefined) throw badRequest(`bindings: no vhost '${vhostName}'`);
  const kind = binding['destination_type'];
  if (kind !== 'queue' && kind !== 'exchange') throw badRequest("bindings: 'destination_type' must be queue or exchange");
  const args = (binding['arguments'] ?? {}) as Record<string, unknown>;
  const routingKey = typeof binding['routing_key'] === 'string' ? binding['routing_key'] : '';
  addBinding(context, vhost, field(binding, 'source', 'bindings'), kind, field(binding, 'destination', 'bindings'), routingKey, args);
}
