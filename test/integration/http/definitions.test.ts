import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startManaged, type ManagedBroker } from './http-helpers.js';

// A real export from RabbitMQ 3.10.8 (Debian's package): users alice/secret and guest/guest, vhost
// 'orders' with a topic exchange, an alternate exchange, an e2e binding with arguments, a policy.
const FIXTURE = findUp('test/fixtures/rabbitmq-3.10-definitions.json');

/** The fixture sits in the source tree, above whichever build directory this compiled test runs from. */
function findUp(relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, relative))) return join(dir, relative);
    if (dirname(dir) === dir) throw new Error(`${relative} not found above this test`);
  }
}

type Row = Record<string, unknown>;
const byKey = (rows: Row[]): Row[] => [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
const pick = (rows: Row[], keys: string[]): Row[] => byKey(rows.map((r) => Object.fromEntries(keys.map((k) => [k, r[k]]))));

let b: ManagedBroker;
let fixture: Record<string, Row[]>;
before(async () => {
  b = await startManaged();
  fixture = JSON.parse(await readFile(FIXTURE, 'utf8'));
});
after(() => b.close());

test('importing a RabbitMQ 3.10 export creates users (hashes as they are), vhosts, permissions, topology', async () => {
  const response = await b.api('POST', '/api/definitions', fixture);
  assert.equal(response.statusCode, 204);
  assert.equal(response.headers['x-warren-skipped'], undefined, 'policies are imported, nothing skipped');
  assert.deepEqual(b.broker.getVhost('orders')?.policies.get('ttl')?.definition, { 'max-length': 5000 });
  const alice = b.users.authenticate('alice', 'secret', '127.0.0.1');
  assert.ok(alice.ok, 'RabbitMQ password hash works');
  assert.deepEqual(alice.user.tags, ['management']);
  assert.ok(b.users.authenticate('guest', 'guest', '127.0.0.1').ok);
  const orders = b.broker.getVhost('orders');
  assert.ok(orders);
  assert.equal(orders.getExchange('orders.events')?.alternateExchange, 'orders.unrouted');
  assert.deepEqual(orders.getQueue('orders.created')?.arguments, { 'x-max-length': 1000, 'x-message-ttl': 60000, 'x-queue-type': 'classic' });
  // The imported topology routes: a topic match, and the alternate exchange for everything else.
  const publish = (key: string) =>
    b.json('POST', '/api/exchanges/orders/orders.events/publish', { routing_key: key, payload: 'p', payload_encoding: 'string', properties: {} });
  assert.deepEqual(await publish('order.created.eu'), { routed: true });
  assert.deepEqual(await publish('nothing.matches'), { routed: true });
  assert.equal(orders.getQueue('orders.created')?.readyCount(), 1);
  assert.equal(orders.getQueue('orders.dead')?.readyCount(), 1);
  // Importing again changes nothing and fails nothing.
  assert.equal((await b.api('POST', '/api/definitions', fixture)).statusCode, 204);
});

test('exporting gives back what was imported, in RabbitMQ format', async () => {
  const exported = await b.json('GET', '/api/definitions');
  assert.equal(exported.product_name, 'Warren');
  assert.equal(typeof exported.rabbit_version, 'string');
  const userKeys = ['name', 'password_hash', 'hashing_algorithm', 'tags'];
  assert.deepEqual(pick(exported.users, userKeys), pick(fixture['users']!, userKeys));
  assert.deepEqual(pick(exported.vhosts, ['name']), pick(fixture['vhosts']!, ['name']));
  const permissionKeys = ['user', 'vhost', 'configure', 'write', 'read'];
  assert.deepEqual(pick(exported.permissions, permissionKeys), pick(fixture['permissions']!, permissionKeys));
  assert.deepEqual(byKey(exported.queues), byKey(fixture['queues']!));
  assert.deepEqual(byKey(exported.exchanges), byKey(fixture['exchanges']!));
  assert.deepEqual(byKey(exported.bindings), byKey(fixture['bindings']!));
  assert.deepEqual(exported.policies, fixture['policies']);
});

test('per-vhost export leaves vhost fields out and imports into another vhost', async () => {
  const orders = await b.json('GET', '/api/definitions/orders');
  assert.equal(orders.queues.length, 2);
  assert.equal(orders.queues[0].vhost, undefined);
  assert.equal((await b.api('PUT', '/api/vhosts/orders-copy', {})).statusCode, 201);
  assert.equal((await b.api('POST', '/api/definitions/orders-copy', orders)).statusCode, 204);
  const copy = b.broker.getVhost('orders-copy');
  assert.ok(copy?.getQueue('orders.created'));
  assert.equal(copy?.getExchange('orders.events')?.bindings.size, 2);
});

test('definitions need an administrator; malformed files are 400', async () => {
  assert.equal((await b.api('GET', '/api/definitions', undefined, ['alice', 'secret'])).statusCode, 401);
  assert.equal((await b.api('POST', '/api/definitions', { queues: 'nope' })).statusCode, 400);
  assert.equal((await b.api('POST', '/api/definitions', { bindings: [{ source: 'x', vhost: '/', destination: 'y', destination_type: 'table' }] })).statusCode, 400);
});
