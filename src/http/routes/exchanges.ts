import type { FastifyInstance } from 'fastify';
import { Message } from '../../broker/message.js';
import { accessAs, requireVhostVisible } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bodyObject, jsonToProperties, jsonToTable, optionalString, parseBool, requireString } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { bindingJson, exchangeFromUrl, exchangeJson, requireVhost, visibleVhosts } from './shared.js';

type Params = { vhost: string; name: string };

/** Declares (or checks the equivalence of) an exchange from a PUT body. Returns whether it was new. */
export function declareExchangeFromJson(context: ManagementContext, vhostName: string, name: string, body: Record<string, unknown>): boolean {
  const vhost = requireVhost(context, vhostName);
  const existed = vhost.getExchange(name) !== undefined;
  vhost.declareExchange({
    name,
    type: optionalString(body, 'type', 'direct'),
    durable: parseBool(body['durable'], 'durable', true),
    autoDelete: parseBool(body['auto_delete'], 'auto_delete', false),
    internal: parseBool(body['internal'], 'internal', false),
    arguments: jsonToTable(body['arguments'], 'arguments'),
  });
  return !existed;
}

/** Body bytes from a publish or definitions payload: "string" (UTF-8) or "base64". */
export function decodePayload(payload: string, encoding: string): Buffer {
  if (encoding === 'string') return Buffer.from(payload, 'utf8');
  if (encoding === 'base64') return Buffer.from(payload, 'base64');
  throw badRequest(`payload_encoding must be string or base64, got '${encoding}'`);
}

export function registerExchangeRoutes(app: FastifyInstance, context: ManagementContext): void {
  const list = (user: Parameters<typeof visibleVhosts>[1], only?: string): Record<string, unknown>[] =>
    visibleVhosts(context, user, only).flatMap((vhost) => [...vhost.exchanges.values()].map((x) => exchangeJson(context, x)));

  app.get<{ Querystring: ListQuery }>('/api/exchanges', async (request) => shapeList(list(request.managementUser), request.query));

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/exchanges/:vhost', async (request) =>
    shapeList(list(request.managementUser, request.params.vhost), request.query),
  );

  app.get<{ Params: Params; Querystring: ListQuery }>('/api/exchanges/:vhost/:name', async (request) => {
    const [vhost] = visibleVhosts(context, request.managementUser, request.params.vhost);
    const exchange = vhost!.getExchange(exchangeFromUrl(request.params.name));
    if (exchange === undefined) throw objectNotFound();
    return shapeItem(exchangeJson(context, exchange), request.query);
  });

  app.put<{ Params: Params }>('/api/exchanges/:vhost/:name', async (request, reply) => {
    const { vhost, name } = request.params;
    requireVhost(context, vhost);
    accessAs(context.users, request.managementUser, vhost).declareExchange(name);
    const created = declareExchangeFromJson(context, vhost, name, bodyObject(request.body));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: Params; Querystring: { 'if-unused'?: string } }>('/api/exchanges/:vhost/:name', async (request, reply) => {
    const { vhost: vhostName, name } = request.params;
    const vhost = requireVhost(context, vhostName);
    accessAs(context.users, request.managementUser, vhostName).deleteExchange(name);
    if (vhost.getExchange(exchangeFromUrl(name)) === undefined) throw objectNotFound();
    vhost.deleteExchange(exchangeFromUrl(name), parseBool(request.query['if-unused'], 'if-unused', false));
    return reply.code(204).send();
  });

  app.post<{ Params: Params }>('/api/exchanges/:vhost/:name/publish', async (request) => {
    const { vhost: vhostName } = request.params;
    const name = exchangeFromUrl(request.params.name);
    const vhost = requireVhost(context, vhostName);
    accessAs(context.users, request.managementUser, vhostName).publish(name);
    const body = bodyObject(request.body);
    const routingKey = requireString(body, 'routing_key');
    const payload = requireString(body, 'payload');
    const encoding = requireString(body, 'payload_encoding');
    const message = new Message(name, routingKey, jsonToProperties(body['properties']), decodePayload(payload, encoding));
    return { routed: vhost.publish(message).routed > 0 };
  });

  for (const side of ['source', 'destination'] as const) {
    app.get<{ Params: Params; Querystring: ListQuery }>(`/api/exchanges/:vhost/:name/bindings/${side}`, async (request) => {
      requireVhostVisible(context.users, request.managementUser, request.params.vhost);
      const exchange = requireVhost(context, request.params.vhost).getExchange(exchangeFromUrl(request.params.name));
      if (exchange === undefined) throw objectNotFound();
      const bindings = side === 'source' ? [...exchange.bindings.values()] : [...exchange.inbound];
      return shapeList(bindings.map(bindingJson), request.query);
    });
  }
}
