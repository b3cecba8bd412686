import type { FastifyInstance } from 'fastify';
import type { User } from '../../auth/users.js';
import type { StoredRecord } from '../../broker/records.js';
import { Message, type BasicProperties } from '../../broker/message.js';
import type { QueueView } from '../../broker/queue-view.js';
import { BarrierSet } from '../../session/durability.js';
import { accessAs, isAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, notAuthorised, objectNotFound } from '../errors.js';
import { bodyObject, jsonToProperties } from '../format.js';
import { requireVhost } from './shared.js';

/**
 * Warren's record tables (broker/records.ts) over the management API: what the job library (src/jobs)
 * keeps in the broker, visible and editable by operators. Not a RabbitMQ resource. Writes answer after
 * the store made them durable (the same group commit as publisher confirms).
 */
interface TableParams {
  vhost: string;
  table: string;
}

interface ListQuery {
  tag?: string;
  offset?: string;
  limit?: string;
  order?: string;
}

/**
 * A message a put publishes when (and only when) its condition held: the record and the message become
 * durable in the same group commit and the answer waits for both (a transactional outbox). This is what
 * lets a job's add be one round trip instead of a record write followed by a confirmed publish.
 */
interface PublishSpec {
  exchange: string;
  routing_key: string;
  /** UTF-8 body. */
  payload: string;
  /** Management-API message properties (delivery_mode, headers, priority, message_id, ...). */
  properties?: Record<string, unknown>;
}

/**
 * One operation of POST /api/records/{vhost}/{table}: a batch runs in order, in one turn. An op's own
 * `table` (same vhost) overrides the path's, so that writes to several tables (a job flow: the parent,
 * its dependency list, the children) are applied together and made durable by one group commit.
 * A put's `merge` and `transient` are broker/records.ts's PutMode (only the changed fields are sent;
 * kept in memory only).
 */
type RecordOp = { table?: string } & (
  | { op: 'put'; key: string; tag: string; value?: unknown; ifAbsent?: boolean; ifTagIn?: string[]; merge?: boolean; transient?: boolean; publish?: PublishSpec }
  | { op: 'delete'; key: string; ifTagIn?: string[] }
  | { op: 'get'; key: string }
  | { op: 'trim'; tag: string; keep?: number; maxAgeMs?: number; limit?: number }
);

const MAX_OPS = 10_000;
const MAX_PAGE = 10_000;

export function recordJson(record: StoredRecord): Record<string, unknown> {
  return { key: record.key, tag: record.tag, value: record.value, updated_at: record.updatedAt };
}

function requireVhostUser(context: ManagementContext, user: User, vhost: string): void {
  requireVhost(context, vhost);
  if (!isAdministrator(user) && !context.users.canAccessVhost(user, vhost)) throw notAuthorised('Access refused.');
}

/** Waits for the store and for every barrier a published message reached (queues on other nodes). */
function whenDurable(context: ManagementContext, reached: readonly QueueView[] = []): Promise<boolean> {
  const barriers = new BarrierSet(context.broker);
  for (const queue of reached) if (queue.durability !== undefined) barriers.join(queue.durability);
  return new Promise((resolve) => barriers.waitAll((lost) => resolve(!lost)));
}

/** Each publish's properties as checked by parseOps, used again by publish (parsed once per request). */
const checkedProperties = new WeakMap<PublishSpec, BasicProperties>();

function parsePublish(value: unknown, i: number): PublishSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`ops[${i}].publish must be an object`);
  const spec = value as Record<string, unknown>;
  for (const name of ['exchange', 'routing_key', 'payload']) if (typeof spec[name] !== 'string') throw badRequest(`ops[${i}].publish.${name} must be a string`);
  const checked = spec as unknown as PublishSpec;
  checkedProperties.set(checked, jsonToProperties(spec['properties']));
  return checked;
}

function numberParam(value: string | undefined, name: string, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) throw badRequest(`'${name}' must be an integer from 0 to ${max}`);
  return n;
}

function checkTags(tags: unknown, i: number): void {
  if (tags !== undefined && (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))) throw badRequest(`ops[${i}].ifTagIn must be an array of strings`);
}

function parseOps(body: unknown): RecordOp[] {
  const ops = bodyObject(body)['ops'];
  if (!Array.isArray(ops) || ops.length > MAX_OPS) throw badRequest(`'ops' must be an array of at most ${MAX_OPS} operations`);
  return ops.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) throw badRequest(`ops[${i}] must be an object`);
    const op = raw as Record<string, unknown>;
    const strings = (names: string[]): void => {
      for (const name of names) if (typeof op[name] !== 'string') throw badRequest(`ops[${i}].${name} must be a string`);
    };
    if (op['table'] !== undefined && (typeof op['table'] !== 'string' || op['table'] === '')) throw badRequest(`ops[${i}].table must be a non-empty string`);
    switch (op['op']) {
      case 'put':
        strings(['key', 'tag']);
        checkTags(op['ifTagIn'], i);
        for (const name of ['ifAbsent', 'merge', 'transient']) {
          if (op[name] !== undefined && typeof op[name] !== 'boolean') throw badRequest(`ops[${i}].${name} must be a boolean`);
        }
        if (op['publish'] !== undefined) parsePublish(op['publish'], i);
        return op as RecordOp;
      case 'delete':
        strings(['key']);
        checkTags(op['ifTagIn'], i);
        return op as RecordOp;
      case 'get':
        strings(['key']);
        return op as RecordOp;
      case 'trim':
        strings(['tag']);
        for (const name of ['keep', 'maxAgeMs', 'limit']) {
          if (op[name] !== undefined && (typeof op[name] !== 'number' || !Number.isFinite(op[name]) || (op[name] as number) < 0)) {
            throw badRequest(`ops[${i}].${name} must be a non-negative number`);
          }
        }
        return op as RecordOp;
      default:
        throw badRequest(`ops[${i}].op must be put, delete, get or trim`);
    }
  });
}

function runOp(context: ManagementContext, vhost: string, pathTable: string, op: RecordOp, reached: QueueView[]): unknown {
  const records = context.broker.records;
  const table = op.table ?? pathTable;
  switch (op.op) {
    case 'put': {
      const condition = { ...(op.ifAbsent === true ? { ifAbsent: true } : {}), ...(op.ifTagIn === undefined ? {} : { ifTagIn: op.ifTagIn }) };
      const mode = { merge: op.merge === true, transient: op.transient === true };
      const written = records.put(vhost, table, op.key, op.tag, op.value ?? null, condition, Date.now(), mode);
      if (written) return op.publish === undefined ? { ok: true } : { ok: true, routed: publish(context, vhost, op.publish, reached) };
      const current = records.get(vhost, table, op.key);
      return current === undefined ? { ok: false } : { ok: false, current: recordJson(current) };
    }
    case 'delete':
      return { ok: records.delete(vhost, table, op.key, op.ifTagIn === undefined ? {} : { ifTagIn: op.ifTagIn }) };
    case 'get': {
      const record = records.get(vhost, table, op.key);
      return record === undefined ? { ok: false } : { ok: true, current: recordJson(record) };
    }
    case 'trim': {
      const request = { tag: op.tag, ...(op.keep === undefined ? {} : { keep: op.keep }), ...(op.maxAgeMs === undefined ? {} : { maxAgeMs: op.maxAgeMs }), ...(op.limit === undefined ? {} : { limit: op.limit }) };
      return { ok: true, removed: records.trim(vhost, table, request) };
    }
  }
}

function publish(context: ManagementContext, vhostName: string, spec: PublishSpec, reached: QueueView[]): boolean {
  const vhost = requireVhost(context, vhostName);
  const message = new Message(spec.exchange, spec.routing_key, checkedProperties.get(spec) ?? jsonToProperties(spec.properties), exactBytes(spec.payload));
  return vhost.publish(message, reached).routed > 0;
}

/**
 * The payload in a buffer of its own. Buffer.from(string) cuts small strings out of a shared 8 KiB
 * pool, and a queued message would keep its whole slab alive (with whatever else was cut from it): at
 * 30,000 queued jobs that was 26 MB of slabs for 9 MB of bodies.
 */
function exactBytes(payload: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(payload, 'utf8'));
  bytes.write(payload, 0, 'utf8');
  return bytes;
}

export function registerRecordRoutes(app: FastifyInstance, context: ManagementContext): void {
  // Push queues' delivery state (src/push): endpoint, in flight, last status and error, latencies.
  app.get('/api/push', async (request) => {
    const states = (context.pushStates?.() ?? []) as { vhost: string }[];
    const user = request.managementUser;
    return isAdministrator(user) ? states : states.filter((s) => context.users.canAccessVhost(user, s.vhost));
  });

  app.get<{ Params: { vhost: string } }>('/api/records/:vhost', async (request) => {
    requireVhostUser(context, request.managementUser, request.params.vhost);
    return context.broker.records.tablesOf(request.params.vhost);
  });

  app.get<{ Params: TableParams; Querystring: ListQuery }>('/api/records/:vhost/:table', async (request) => {
    const { vhost, table } = request.params;
    requireVhostUser(context, request.managementUser, vhost);
    const query = request.query;
    const list = context.broker.records.list(vhost, table, {
      ...(query.tag === undefined ? {} : { tag: query.tag }),
      offset: numberParam(query.offset, 'offset', Number.MAX_SAFE_INTEGER) ?? 0,
      limit: numberParam(query.limit, 'limit', MAX_PAGE) ?? 100,
      ascending: query.order === 'asc',
    });
    return { counts: context.broker.records.counts(vhost, table), items: list.map(recordJson) };
  });

  app.get<{ Params: TableParams & { key: string } }>('/api/records/:vhost/:table/:key', async (request) => {
    const { vhost, table, key } = request.params;
    requireVhostUser(context, request.managementUser, vhost);
    const record = context.broker.records.get(vhost, table, key);
    if (record === undefined) throw objectNotFound();
    return recordJson(record);
  });

  app.post<{ Params: TableParams }>('/api/records/:vhost/:table', async (request) => {
    const { vhost, table } = request.params;
    requireVhostUser(context, request.managementUser, vhost);
    const ops = parseOps(request.body);
    // Publishing needs the exchange and write permission on it, checked for the whole batch before any
    // op runs, so a refused publish never leaves the batch half applied.
    ops.forEach((op, i) => {
      if (op.op !== 'put' || op.publish === undefined) return;
      if (requireVhost(context, vhost).getExchange(op.publish.exchange) === undefined) throw badRequest(`ops[${i}].publish.exchange: no exchange '${op.publish.exchange}' in vhost '${vhost}'`);
      accessAs(context.users, request.managementUser, vhost).publish(op.publish.exchange);
    });
    const reached: QueueView[] = [];
    const results = ops.map((op) => runOp(context, vhost, table, op, reached));
    // `durable: false` answers at once (the writes still go to the journal with the next group commit):
    // for writes whose loss a crash makes harmless, as a worker marking a job active.
    const durable = bodyObject(request.body)['durable'] !== false;
    if (durable && ops.some((op) => op.op !== 'get')) {
      if (!(await whenDurable(context, reached))) throw new Error('a published message may not be durable (a queue owner was lost)');
    }
    return { results };
  });

  app.delete<{ Params: TableParams }>('/api/records/:vhost/:table', async (request, reply) => {
    const { vhost, table } = request.params;
    requireVhostUser(context, request.managementUser, vhost);
    context.broker.records.dropTable(vhost, table);
    await whenDurable(context);
    return reply.code(204).send();
  });
}
