import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { rabbitmqMissing, startRabbit, type TestRabbit } from '../../helpers/rabbitmq.js';
import { waitFor } from '../../helpers/wait.js';

// Shovels between Warren and a real RabbitMQ 3.10 (Debian's), in both directions, with Warren's shovels
// and with RabbitMQ's own shovel plugin. One RabbitMQ for the whole file (it takes seconds to start).

const RABBITMQADMIN = ['/usr/bin/rabbitmqadmin', '/usr/sbin/rabbitmqadmin'].find((path) => existsSync(path));
const run = promisify(execFile);
const skip = rabbitmqMissing;
let rabbit: TestRabbit;
let warren: TestWarren;

before(async () => {
  if (skip !== false) return;
  [rabbit, warren] = await Promise.all([startRabbit({ plugins: ['rabbitmq_shovel', 'rabbitmq_shovel_management'] }), startWarren()]);
});
after(async () => {
  await warren?.close();
  await rabbit?.close();
});

async function publish(url: string, queue: string, count: number, from = 0): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = from; i < from + count; i++) {
    channel.sendToQueue(queue, Buffer.from(`message ${i}`), { persistent: true, messageId: `id-${i}`, headers: { n: i } });
    if (i % 1000 === 999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  await connection.close();
}

async function drain(url: string, queue: string, expected: number): Promise<amqp.ConsumeMessage[]> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(1000);
  const got: amqp.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => {
    if (m === null) return;
    got.push(m);
    channel.ack(m);
  });
  await waitFor(() => got.length >= expected, `${expected} messages from ${queue} (have ${got.length})`, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await connection.close();
  return got;
}

async function depth(api: TestWarren['api'], queue: string): Promise<number> {
  const { status, body } = await api('GET', `/api/queues/%2F/${encodeURIComponent(queue)}`);
  return status === 200 && typeof body.messages === 'number' ? body.messages : -1;
}

async function state(name: string): Promise<string | undefined> {
  return (await warren.api('GET', `/api/shovels/vhost/%2F/${name}`)).body?.state;
}

test('shovel everything from an old RabbitMQ into Warren: exactly N, none twice, also across a RabbitMQ restart', { skip }, async () => {
  const N = 5000;
  await publish(rabbit.url, 'legacy', N);
  const put = await warren.api('PUT', '/api/parameters/shovel/%2F/from-rabbit', {
    value: { 'src-uri': rabbit.url, 'src-queue': 'legacy', 'dest-uri': 'amqp://', 'dest-queue': 'migrated', 'reconnect-delay': 0.5 },
  });
  assert.equal(put.status, 201);
  await waitFor(async () => (await depth(warren.api, 'migrated')) === N, `${N} messages in Warren`, 30_000);
  // RabbitMQ's management stats lag by its 5 s sampling; the queue's own count comes with a passive declare.
  const probe = await amqp.connect(rabbit.url);
  const ch = await probe.createChannel();
  await waitFor(async () => (await ch.checkQueue('legacy')).messageCount === 0, 'the RabbitMQ queue drained (acked after confirms)');
  await probe.close();

  await rabbit.stop();
  await waitFor(async () => (await state('from-rabbit')) === 'terminated', 'terminated while RabbitMQ is down');
  await rabbit.start();
  await publish(rabbit.url, 'legacy', N, N);
  await waitFor(async () => (await depth(warren.api, 'migrated')) === 2 * N, `${2 * N} messages in Warren after the restart`, 60_000);
  assert.equal(await state('from-rabbit'), 'running');
  const got = await drain(warren.url, 'migrated', 2 * N);
  assert.equal(got.length, 2 * N);
  assert.equal(new Set(got.map((m) => m.properties.messageId)).size, 2 * N, 'no duplicates with on-confirm');
  assert.equal(got[0]?.properties.headers?.['n'], 0, 'headers kept');
  await warren.api('DELETE', '/api/parameters/shovel/%2F/from-rabbit');
});

test('Warren -> RabbitMQ with on-confirm: every message arrives once', { skip }, async () => {
  const N = 2000;
  await publish(warren.url, 'outgoing', N);
  await warren.api('PUT', '/api/parameters/shovel/%2F/to-rabbit', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'outgoing', 'dest-uri': rabbit.url, 'dest-queue': 'incoming', 'src-delete-after': 'queue-length' },
  });
  const got = await drain(rabbit.url, 'incoming', N);
  assert.equal(new Set(got.map((m) => m.properties.messageId)).size, N);
  await waitFor(async () => (await warren.api('GET', '/api/parameters/shovel/%2F/to-rabbit')).status === 404, 'the shovel removed itself');
  assert.equal(await depth(warren.api, 'outgoing'), 0);
});

test("RabbitMQ's own shovel plugin moves messages into Warren", { skip }, async () => {
  const put = await rabbit.api('PUT', '/api/parameters/shovel/%2F/into-warren', {
    value: { 'src-protocol': 'amqp091', 'src-uri': 'amqp://', 'src-queue': 'rq', 'dest-protocol': 'amqp091', 'dest-uri': warren.url, 'dest-queue': 'from-rabbit-plugin' },
  });
  assert.equal(put.status, 201);
  await publish(rabbit.url, 'rq', 1000);
  const got = await drain(warren.url, 'from-rabbit-plugin', 1000);
  assert.equal(new Set(got.map((m) => m.properties.messageId)).size, 1000);
  const shovels = (await rabbit.api('GET', '/api/shovels')).body as any[];
  assert.equal(shovels.find((s) => s.name === 'into-warren')?.state, 'running');
  await rabbit.api('DELETE', '/api/parameters/shovel/%2F/into-warren');
});

test('a RabbitMQ definitions export with a shovel imports into Warren and runs', { skip }, async () => {
  // Defined (not started: its source queue is named, its destination points at Warren) on RabbitMQ,
  // exported with RabbitMQ's own API, removed there, imported into Warren.
  const value = { 'src-uri': rabbit.url, 'src-queue': 'exported-src', 'dest-uri': 'amqp://', 'dest-queue': 'imported-dst', 'ack-mode': 'on-confirm' };
  assert.equal((await rabbit.api('PUT', '/api/parameters/shovel/%2F/exported', { value })).status, 201);
  const definitions = (await rabbit.api('GET', '/api/definitions')).body;
  assert.equal((await rabbit.api('DELETE', '/api/parameters/shovel/%2F/exported')).status, 204);
  assert.ok((definitions.parameters as any[]).some((p) => p.component === 'shovel' && p.name === 'exported'));
  const imported = await warren.api('POST', '/api/definitions', definitions);
  assert.equal(imported.status, 204, JSON.stringify(imported.body));
  await publish(rabbit.url, 'exported-src', 100);
  assert.equal((await drain(warren.url, 'imported-dst', 100)).length, 100);
  assert.equal((await warren.api('GET', '/api/global-parameters/internal_cluster_id')).status, 200, 'global parameters imported');
  await warren.api('DELETE', '/api/parameters/shovel/%2F/exported');
});

test('rabbitmqadmin declares, lists and deletes a shovel parameter on Warren', { skip: skip || (RABBITMQADMIN === undefined ? 'rabbitmqadmin not installed' : false) }, async () => {
  const admin = (...args: string[]) => run('/usr/bin/python3', [RABBITMQADMIN as string, '-H', '127.0.0.1', '-P', String(warren.httpPort), '-u', 'guest', '-p', 'guest', ...args]);
  const value = JSON.stringify({ 'src-uri': 'amqp://', 'src-queue': 'admin-src', 'dest-uri': 'amqp://', 'dest-queue': 'admin-dst' });
  await admin('declare', 'parameter', 'component=shovel', 'name=by-admin', `value=${value}`);
  const listed = JSON.parse((await admin('-f', 'raw_json', 'list', 'parameters')).stdout) as any[];
  assert.ok(listed.some((p) => p.name === 'by-admin' && p.component === 'shovel'));
  await waitFor(async () => (await state('by-admin')) === 'running', 'the admin-declared shovel running');
  await admin('delete', 'parameter', 'component=shovel', 'name=by-admin');
  assert.equal((await warren.api('GET', '/api/parameters/shovel/%2F/by-admin')).status, 404);
});
