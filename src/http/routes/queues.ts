import type { FastifyInstance } from 'fastify';
import type { QueueView } from '../../broker/queue-view.js';
import type { VHost } from '../../broker/vhost.js';
import { accessAs, requireVhostVisible } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bodyObject, jsonToTable, parseBool, requireString } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { consumerJson } from './consumers.js';
import { getMessages, moveMessages, parseAckMode, parseCount, parseEncoding, parseTruncate, peekMessages } from './messages.js';
import { bindingJson, defaultBindingJson, queueJson, requireVhost, visibleVhosts } from './shared.js';

type Params = { vhost: string; name: string };

/** Declares (or checks the equivalence of) a queue from a PUT body. Returns whether it was new. */
export function declareQueueFromJson(context: ManagementContext, vhostName: string, name: string, body: Record<string, unknown>): boolean {
  const vhost = requireVhost(context, vhostName);
  if (name === '') throw badRequest('queue name must not be empty');
  const existed = vhost.getQueue(name) !== undefined;
  vhost.declareQueue(
    {
      name,
      durable: parseBool(body['durable'], 'durable', true),
      autoDelete: parseBool(body['auto_delete'], 'auto_delete', false),
      exclusive: false,
      arguments: jsonToTable(body['arguments'], 'arguments'),
    },
    context.owner,
  );
  return !existed;
}

function requireQueue(vhost: VHost, name: string): QueueView {
  const queue = vhost.getQueue(name);
  if (queue === undefined) throw objectNotFound();
  return queue;
}

export function registerQueueRoutes(app: FastifyInstance, context: ManagementContext): void {
  const list = (user: Parameters<typeof visibleVhosts>[1], only?: string): Record<string, unknown>[] =>
    visibleVhosts(context, user, only).flatMap((vhost) => [...vhost.queues.values()].map((q) => queueJson(context, q)));

  app.get<{ Querystring: ListQuery }>('/api/queues', async (request) => shapeList(list(request.managementUser), request.query));

  app.get<{ Params: { vhost: string }; Querystring: ListQuery }>('/api/queues/:vhost', async (request) =>
    shapeList(list(request.managementUser, request.params.vhost), request.query),
  );

  app.get<{ Params: Params; Querystring: ListQuery }>('/api/queues/:vhost/:name', async (request) => {
    const [vhost] = visibleVhosts(context, request.managementUser, request.params.vhost);
    const queue = requireQueue(vhost!, request.params.name);
    const consumers = queue.consumers.map((consumer) => consumerJson(context, queue, consumer));
    return shapeItem({ ...queueJson(context, queue), consumer_details: consumers }, request.query);
  });

  app.put<{ Params: Params }>('/api/queues/:vhost/:name', async (request, reply) => {
    const { vhost, name } = request.params;
    requireVhost(context, vhost);
    accessAs(context.users, request.managementUser, vhost).declareQueue(name);
    const created = declareQueueFromJson(context, vhost, name, bodyObject(request.body));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: Params; Querystring: { 'if-unused'?: string; 'if-empty'?: string } }>('/api/queues/:vhost/:name', async (request, reply) => {
    const { vhost: vhostName, name } = request.params;
    const vhost = requireVhost(context, vhostName);
    accessAs(context.users, request.managementUser, vhostName).deleteQueue(name);
    const queue = requireQueue(vhost, name);
    const options = {
      ifUnused: parseBool(request.query['if-unused'], 'if-unused', false),
      ifEmpty: parseBool(request.query['if-empty'], 'if-empty', false),
    };
    // An operator may delete another connection's exclusive queue, as in RabbitMQ's UI.
    vhost.deleteQueue(name, options, queue.exclusiveOwner ?? context.owner);
    return reply.code(204).send();
  });

  app.delete<{ Params: Params }>('/api/queues/:vhost/:name/contents', async (request, reply) => {
    const { vhost: vhostName, name } = request.params;
    const vhost = requireVhost(context, vhostName);
    accessAs(context.users, request.managementUser, vhostName).readQueue(name);
    const queue = requireQueue(vhost, name);
    vhost.purgeQueue(name, queue.exclusiveOwner ?? context.owner);
    return reply.code(204).send();
  });

  app.post<{ Params: Params }>('/api/queues/:vhost/:name/get', async (request) => {
    const { vhost: vhostName, name } = request.params;
    const vhost = requireVhost(context, vhostName);
    accessAs(context.users, request.managementUser, vhostName).readQueue(name);
    const queue = requireQueue(vhost, name);
    queue.checkAccess(context.owner);
    const body = bodyObject(request.body);
    const ackmode = parseAckMode(body['ackmode']);
    return getMessages(queue, parseCount(body['count'], 1), ackmode, parseEncoding(body['encoding']), parseTruncate(body['truncate']));
  });

  // Warren's extension: browse ready messages without taking them (no redelivered flag, no counters).
  app.get<{ Params: Params; Querystring: { offset?: string; count?: string; encoding?: string; truncate?: string } }>(
    '/api/queues/:vhost/:name/messages',
    async (request) => {
      const { vhost: vhostName, name } = request.params;
      const vhost = requireVhost(context, vhostName);
      accessAs(context.users, request.managementUser, vhostName).readQueue(name);
      const queue = requireQueue(vhost, name);
      const q = request.query;
      return peekMessages(queue, parseCount(q.offset, 0), parseCount(q.count, 10), parseEncoding(q.encoding), parseTruncate(q.truncate));
    },
  );

  // Warren's extension: move ready messages to another queue of the same vhost (repair after a bad route).
  app.post<{ Params: Params }>('/api/queues/:vhost/:name/move', async (request) => {
    const { vhost: vhostName, name } = request.params;
    const vhost = requireVhost(context, vhostName);
    const body = bodyObject(request.body);
    const target = requireString(body, 'destination');
    accessAs(context.users, request.managementUser, vhostName).readQueue(name);
    accessAs(context.users, request.managementUser, vhostName).writeQueue(target);
    const source = requireQueue(vhost, name);
    const destination = requireQueue(vhost, target);
    if (source === destination) throw badRequest('destination must be another queue');
    source.checkAccess(context.owner);
    destination.checkAccess(context.owner);
    return { moved: await moveMessages(source, destination, parseCount(body['count'], source.readyCount())) };
  });

  app.get<{ Params: Params; Querystring: ListQuery }>('/api/queues/:vhost/:name/bindings', async (request) => {
    requireVhostVisible(context.users, request.managementUser, request.params.vhost);
    const queue = requireQueue(requireVhost(context, request.params.vhost), request.params.name);
    return shapeList([defaultBindingJson(queue), ...[...queue.bindings].map(bindingJson)], request.query);
  });
}
