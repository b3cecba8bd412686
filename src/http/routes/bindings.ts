import type { FastifyInstance } from 'fastify';
import type { VHost } from '../../broker/vhost.js';
import { accessAs, requireVhostVisible } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
import { bodyObject, jsonToTable, optionalString } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { exchangeFromUrl, propertiesKey, requireVhost, vhostBindings, visibleVhosts, type BindingRow } from './shared.js';

type Kind = 'queue' | 'exchange';
type Params = { vhost: string; source: string; destination: string };

/** Creates a binding as the given user would over AMQP (write on the destination, read on the source). */
export function addBinding(
  context: ManagementContext,
  vhost: VHost,
  source: string,
  kind: Kind,
  destination: string,
  routingKey: string,
  args: Record<string, unknown>,
): void {
  const table = jsonToTable(args, 'arguments');
  if (kind === 'queue') vhost.bindQueue(destination, source, routingKey, table, context.owner);
  else vhost.bindExchange(destination, source, routingKey, table);
}

function between(vhost: VHost, source: string, kind: Kind, destination: string): BindingRow[] {
  if (vhost.getExchange(source) === undefined) throw objectNotFound();
  const exists = kind === 'queue' ? vhost.getQueue(destination) !== undefined : vhost.getExchange(destination) !== undefined;
  if (!exists) throw objectNotFound();
  return vhostBindings(vhost).filter((b) => b.source === source && b.destination_type === kind && b.destination === destination);
}

function authorizeBinding(context: ManagementContext, user: Parameters<typeof accessAs>[1], vhost: string, source: string, kind: Kind, destination: string): void {
  accessAs(context.users, user, vhost).bind(kind, destination, source);
}

function registerPair(app: FastifyInstance, context: ManagementContext, letter: 'q' | 'e', kind: Kind): void {
  const path = `/api/bindings/:vhost/e/:source/${letter}/:destination`;
  const names = (p: Params): { source: string; destination: string } => ({
    source: exchangeFromUrl(p.source),
    destination: kind === 'exchange' ? exchangeFromUrl(p.destination) : p.destination,
  });

  app.get<{ Params: Params; Querystring: ListQuery }>(path, async (request) => {
    requireVhostVisible(context.users, request.managementUser, request.params.vhost);
    const { source, destination } = names(request.params);
    return shapeList(between(requireVhost(context, request.params.vhost), source, kind, destination), request.query);
  });

  app.post<{ Params: Params }>(path, async (request, reply) => {
    const vhost = requireVhost(context, request.params.vhost);
    const { source, destination } = names(request.params);
    authorizeBinding(context, request.managementUser, vhost.name, source, kind, destination);
    const body = bodyObject(request.body);
    const routingKey = optionalString(body, 'routing_key', '');
    addBinding(context, vhost, source, kind, destination, routingKey, jsonToTable(body['arguments'], 'arguments'));
    const row = between(vhost, source, kind, destination).find((b) => b.routing_key === routingKey);
    // RabbitMQ answers 201 with the new binding's properties key as the Location.
    return reply.code(201).header('location', `${encodeURIComponent(request.params.destination)}/${encodeURIComponent(row?.properties_key ?? '~')}`).send();
  });

  app.get<{ Params: Params & { props: string }; Querystring: ListQuery }>(`${path}/:props`, async (request) => {
    requireVhostVisible(context.users, request.managementUser, request.params.vhost);
    const { source, destination } = names(request.params);
    const row = between(requireVhost(context, request.params.vhost), source, kind, destination).find((b) => b.properties_key === request.params.props);
    if (row === undefined) throw objectNotFound();
    return shapeItem(row, request.query);
  });

  app.delete<{ Params: Params & { props: string } }>(`${path}/:props`, async (request, reply) => {
    const vhost = requireVhost(context, request.params.vhost);
    const { source, destination } = names(request.params);
    authorizeBinding(context, request.managementUser, vhost.name, source, kind, destination);
    between(vhost, source, kind, destination); // 404s for a missing end
    const binding = [...vhost.getExchange(source)!.bindings.values()].find(
      (b) => b.destination.kind === kind && b.destination.name === destination && propertiesKey(b.routingKey, b.arguments) === request.params.props,
    );
    if (binding === undefined) throw objectNotFound();
    if (kind === 'queue') vhost.unbindQueue(destination, source, binding.routingKey, binding.arguments, context.owner);
    else vhost.unbindExchange(destination, source, binding.routingKey, binding.arguments);
    return reply.code(204).send();
  });
}

export function registerBindingRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/bindings', async (request) =>
    shapeList(visibleVhosts(context, request.managementUser).flatMap(vhostBindings), request.query),
  );
  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/bindings/:vhost', async (request) =>
    shapeList(visibleVhosts(context, request.managementUser, request.params.vhost).flatMap(vhostBindings), request.query),
  );
  registerPair(app, context, 'q', 'queue');
  registerPair(app, context, 'e', 'exchange');
}
