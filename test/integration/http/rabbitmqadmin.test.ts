import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { startManaged, type ManagedBroker } from './http-helpers.js';

// RabbitMQ's own CLI client of the management API (Debian's rabbitmq-server package), run with Debian's python.
const RABBITMQADMIN = ['/usr/bin/rabbitmqadmin', '/usr/sbin/rabbitmqadmin'].find((path) => existsSync(path));
const PYTHON = '/usr/bin/python3';
const skip = RABBITMQADMIN === undefined || !existsSync(PYTHON) ? 'rabbitmqadmin or /usr/bin/python3 not installed' : false;
const run = promisify(execFile);

let b: ManagedBroker & { httpPort: number };
before(async () => {
  if (skip === false) b = await startManaged({ listen: true });
});
after(() => b?.close());

async function admin(...args: string[]): Promise<string> {
  const { stdout } = await run(PYTHON, [RABBITMQADMIN!, '-H', '127.0.0.1', '-P', String(b.httpPort), '-u', 'guest', '-p', 'guest', ...args]);
  return stdout;
}

test('rabbitmqadmin declares a queue, publishes, lists, gets and deletes against Warren', { skip }, async () => {
  await admin('declare', 'queue', 'name=from-admin', 'durable=false');
  assert.equal(b.broker.getVhost('/')?.getQueue('from-admin')?.durable, false);
  await admin('publish', 'routing_key=from-admin', 'payload=hello admin');
  const listed = JSON.parse(await admin('-f', 'raw_json', 'list', 'queues', 'name', 'messages'));
  assert.deepEqual(listed, [{ name: 'from-admin', messages: 1 }]);
  assert.match(await admin('list', 'queues'), /from-admin\s*\|\s*1/);
  const got = JSON.parse(await admin('-f', 'raw_json', 'get', 'queue=from-admin'));
  assert.equal(got[0].payload, 'hello admin');
  assert.match(await admin('show', 'overview'), /3\.10/);
  await admin('declare', 'binding', 'source=amq.direct', 'destination=from-admin', 'routing_key=k');
  await admin('delete', 'binding', 'source=amq.direct', 'destination_type=queue', 'destination=from-admin', 'properties_key=k');
  assert.equal(b.broker.getVhost('/')?.getExchange('amq.direct')?.bindings.size, 0);
  await admin('delete', 'queue', 'name=from-admin');
  assert.equal(b.broker.getVhost('/')?.getQueue('from-admin'), undefined);
});
