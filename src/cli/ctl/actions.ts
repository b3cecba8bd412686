import { readFile, writeFile } from 'node:fs/promises';
import { segment } from './client.js';
import { ManagementActions } from './management-actions.js';
import { formatTable } from './table.js';

export type { CtlOptions } from './management-actions.js';

/** What `warren ctl list <kind>` shows per kind, and whether the API path takes a vhost. */
export const LISTABLE: Readonly<Record<string, { columns: string[]; perVhost: boolean }>> = {
  queues: { columns: ['vhost', 'name', 'messages', 'messages_ready', 'messages_unacknowledged', 'consumers', 'durable'], perVhost: true },
  exchanges: { columns: ['vhost', 'name', 'type', 'durable', 'auto_delete', 'internal'], perVhost: true },
  bindings: { columns: ['vhost', 'source', 'destination', 'destination_type', 'routing_key'], perVhost: true },
  consumers: { columns: ['queue.vhost', 'queue.name', 'consumer_tag', 'ack_required', 'prefetch_count', 'channel_details.name'], perVhost: true },
  connections: { columns: ['name', 'user', 'vhost', 'state', 'channels'], perVhost: false },
  users: { columns: ['name', 'tags'], perVhost: false },
  vhosts: { columns: ['name', 'messages', 'messages_ready', 'messages_unacknowledged'], perVhost: false },
  permissions: { columns: ['user', 'vhost', 'configure', 'write', 'read'], perVhost: false },
  policies: { columns: ['vhost', 'name', 'pattern', 'apply-to', 'priority', 'definition'], perVhost: true },
};

/** `set-policy` options, as rabbitmqctl's set_policy names them. */
export interface PolicyOptions {
  applyTo: string;
  priority: number;
}

/** Runs commands against one broker and writes their output; every method is one subcommand. */
export class CtlActions extends ManagementActions {
  async list(kind: string): Promise<void> {
    const listing = LISTABLE[kind];
    if (listing === undefined) throw new Error(`cannot list '${kind}'; one of: ${Object.keys(LISTABLE).join(', ')}`);
    const scoped = listing.perVhost && this.options.vhost !== undefined;
    const rows = await this.client.get<unknown[]>(scoped ? `/${kind}/${segment(this.vhost)}` : `/${kind}`);
    this.print(rows, () => formatTable(rows, listing.columns));
  }

  /** `ctl cluster status`: every node with its state, lease, connections and the queues it owns. */
  async clusterStatus(): Promise<void> {
    const nodes = await this.client.get<unknown[]>('/nodes');
    this.print(nodes, () => formatTable(nodes, ['name', 'cluster_state', 'incarnation', 'lease_until', 'connections', 'queues_owned', 'host', 'amqp_port']));
  }

  /** `ctl cluster rebalance`: replicated queues go where the hash puts them among the living nodes. */
  async rebalance(): Promise<void> {
    const result = await this.client.post<{ moves: { vhost: string; queue: string; from: string; to: string }[] }>('/cluster/rebalance', {});
    this.print(result, () => (result.moves.length === 0 ? 'nothing to move\n' : formatTable(result.moves, ['vhost', 'queue', 'from', 'to'])));
  }

  async purge(queue: string): Promise<void> {
    await this.client.delete(`/queues/${segment(this.vhost)}/${segment(queue)}/contents`);
    this.print({ purged: queue }, () => `purged queue '${queue}'\n`);
  }

  async delete(kind: string, name: string): Promise<void> {
    const collection = objectCollection(kind);
    await this.client.delete(`/${collection}/${segment(this.vhost)}/${segment(name)}`);
    this.print({ deleted: { [kind]: name } }, () => `deleted ${kind} '${name}'\n`);
  }

  async declare(kind: string, name: string, settings: { type: string; durable: boolean; autoDelete: boolean }): Promise<void> {
    const collection = objectCollection(kind);
    const body: Record<string, unknown> = { durable: settings.durable, auto_delete: settings.autoDelete, arguments: {} };
    if (kind === 'exchange') body['type'] = settings.type;
    await this.client.put(`/${collection}/${segment(this.vhost)}/${segment(name)}`, body);
    this.print({ declared: { [kind]: name } }, () => `declared ${kind} '${name}'\n`);
  }

  async publish(exchange: string, routingKey: string, payload: string): Promise<void> {
    const path = `/exchanges/${segment(this.vhost)}/${segment(exchange === '' ? 'amq.default' : exchange)}/publish`;
    const result = await this.client.post<{ routed: boolean }>(path, { routing_key: routingKey, payload, payload_encoding: 'string', properties: {} });
    this.print(result, () => (result.routed ? 'published (routed)\n' : 'published, but routed to no queue\n'));
  }

  async get(queue: string, count: number, requeue: boolean): Promise<void> {
    const ackmode = requeue ? 'ack_requeue_true' : 'ack_requeue_false';
    const rows = await this.client.post<unknown[]>(`/queues/${segment(this.vhost)}/${segment(queue)}/get`, { count, ackmode, encoding: 'auto' });
    this.print(rows, () => formatTable(rows, ['routing_key', 'exchange', 'redelivered', 'payload_bytes', 'payload_encoding', 'payload']));
  }

  async move(queue: string, destination: string, count: number | undefined): Promise<void> {
    const body = count === undefined ? { destination } : { destination, count };
    const result = await this.client.post<{ moved: number }>(`/queues/${segment(this.vhost)}/${segment(queue)}/move`, body);
    this.print(result, () => `moved ${result.moved} message(s) from '${queue}' to '${destination}'\n`);
  }

  async sqsKeys(): Promise<void> {
    const rows = await this.client.get<unknown[]>('/sqs/keys');
    this.print(rows, () => formatTable(rows, ['access_key_id', 'user', 'vhost', 'created']));
  }

  async addSqsKey(user: string, vhost: string): Promise<void> {
    const key = await this.client.post<{ access_key_id: string; secret_access_key: string }>('/sqs/keys', { user, vhost });
    this.print(key, () => `access key id:     ${key.access_key_id}\nsecret access key: ${key.secret_access_key}\n`);
  }

  async deleteSqsKey(id: string): Promise<void> {
    await this.client.delete(`/sqs/keys/${segment(id)}`);
    this.print({ deleted: { sqsKey: id } }, () => `revoked SQS access key '${id}'\n`);
  }

  async addUser(name: string, password: string, tags: string): Promise<void> {
    await this.client.put(`/users/${segment(name)}`, { password, tags });
    this.print({ user: name }, () => `added user '${name}'\n`);
  }

  async deleteUser(name: string): Promise<void> {
    await this.client.delete(`/users/${segment(name)}`);
    this.print({ deleted: { user: name } }, () => `deleted user '${name}'\n`);
  }

  async setPermissions(user: string, patterns: { configure: string; write: string; read: string }): Promise<void> {
    await this.client.put(`/permissions/${segment(this.vhost)}/${segment(user)}`, patterns);
    this.print({ user, vhost: this.vhost, ...patterns }, () => `set permissions of '${user}' on vhost '${this.vhost}'\n`);
  }

  /** Like `rabbitmqctl set_policy NAME PATTERN DEFINITION`: the definition is a JSON object of policy keys. */
  async setPolicy(name: string, pattern: string, definitionJson: string, options: PolicyOptions): Promise<void> {
    const definition = parseDefinition(definitionJson);
    const body = { pattern, definition, 'apply-to': options.applyTo, priority: options.priority };
    await this.client.put(`/policies/${segment(this.vhost)}/${segment(name)}`, body);
    this.print({ vhost: this.vhost, name, ...body }, () => `set policy '${name}' on vhost '${this.vhost}'\n`);
  }

  async clearPolicy(name: string): Promise<void> {
    await this.client.delete(`/policies/${segment(this.vhost)}/${segment(name)}`);
    this.print({ cleared: { policy: name, vhost: this.vhost } }, () => `cleared policy '${name}' on vhost '${this.vhost}'\n`);
  }

  async exportDefinitions(file: string): Promise<void> {
    const definitions = await this.client.get('/definitions');
    await writeFile(file, `${JSON.stringify(definitions, null, 2)}\n`);
    this.print({ exported: file }, () => `exported definitions to ${file}\n`);
  }

  async importDefinitions(file: string): Promise<void> {
    const definitions: unknown = JSON.parse(await readFile(file, 'utf8'));
    await this.client.post('/definitions', definitions);
    this.print({ imported: file }, () => `imported definitions from ${file}\n`);
  }
}

function parseDefinition(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`the policy definition is not valid JSON (${(error as Error).message}): ${text}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`the policy definition must be a JSON object, e.g. '{"max-length": 1000}'; got ${text}`);
  }
  return parsed as Record<string, unknown>;
}

function objectCollection(kind: string): 'queues' | 'exchanges' {
  if (kind === 'queue') return 'queues';
  if (kind === 'exchange') return 'exchanges';
  throw new Error(`expected 'queue' or 'exchange', got '${kind}'`);
}
