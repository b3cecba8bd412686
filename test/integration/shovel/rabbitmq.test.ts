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
// and with RabbitMQ's own shovel plugin; federation both ways. One RabbitMQ for the whole file (it takes seconds to start).

const RABBITMQADMIN = ['/usr/bin/rabbitmqadmin', '/usr/sbin/rabbitmqadmin'].find((path) => existsSync(path));
const run = promisify(execFile);
const skip = rabbitmqMissing;
let rabbit: TestRabbit;
let warren: TestWarren;

before(async () => {
  if (skip !== false) return;
  [rabbit, warren] = await Promise.all([startRabbit({ plugins: ['rabbitmq_shovel', 'rabbitmq_shovel_management', 'rabbitmq_federation', 'rabbitmq_federation_management'] }), startWarren()]);
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
  const theirs = shovels.find((s) => s.name === 'into-warren');
  assert.equal(theirs?.state, 'running');
  // Warren's /api/shovels rows carry every field RabbitMQ's carry for the same kind of shovel.
  await warren.api('PUT', '/api/parameters/shovel/%2F/same-shape', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'rq-w', 'dest-uri': 'amqp://', 'dest-queue': 'from-rabbit-plugin' },
  });
  await waitFor(async () => (await state('same-shape')) === 'running', 'the comparison shovel running');
  const ours = (await warren.api('GET', '/api/shovels/vhost/%2F/same-shape')).body;
  const missing = Object.keys(theirs).filter((key) => !(key in ours));
  assert.deepEqual(missing, [], `RabbitMQ's row: ${JSON.stringify(theirs)}; Warren's: ${JSON.stringify(ours)}`);
  await warren.api('DELETE', '/api/parameters/shovel/%2F/same-shape');
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

test('Warren federates an exchange from RabbitMQ, and RabbitMQ federation pulls an exchange from Warren', { skip }, async () => {
  // Warren <- RabbitMQ, through Warren's federation.
  const rc = await amqp.connect(rabbit.url);
  const rch = await rc.createChannel();
  await rch.assertExchange('prices', 'direct', { durable: true });
  await rc.close();
  const wc = await amqp.connect(warren.url);
  const wch = await wc.createChannel();
  await wch.assertExchange('prices', 'direct', { durable: true });
  await wch.assertQueue('eur-prices', { durable: true });
  await wch.bindQueue('eur-prices', 'prices', 'eur');
  await warren.api('PUT', '/api/parameters/federation-upstream/%2F/old-rabbit', { value: { uri: rabbit.url, 'reconnect-delay': 1 } });
  await warren.api('PUT', '/api/policies/%2F/fed-prices', { pattern: '^prices$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'old-rabbit' } });
  await waitFor(async () => ((await warren.api('GET', '/api/federation-links')).body as any[]).some((l) => l.exchange === 'prices' && l.status === 'running'), 'the link to RabbitMQ running');
  const bound = async (): Promise<boolean> => ((await rabbit.api('GET', '/api/bindings/%2F')).body as any[]).some((x) => x.source === 'prices' && x.routing_key === 'eur');
  await waitFor(bound, "Warren's binding key on RabbitMQ");
  const pc = await amqp.connect(rabbit.url);
  const pch = await pc.createConfirmChannel();
  for (let i = 0; i < 20; i++) pch.publish('prices', 'eur', Buffer.from(`${i}`));
  pch.publish('prices', 'usd', Buffer.from('not bound here'));
  await pch.waitForConfirms();
  await pc.close();
  const got = await drain(warren.url, 'eur-prices', 20);
  assert.equal(got.length, 20);
  const trail = got[0]!.properties.headers?.['x-received-from'] as any[];
  assert.equal(trail.length, 1);
  assert.equal(typeof trail[0]['cluster-name'], 'string', "RabbitMQ's cluster_name recorded");
  await warren.api('DELETE', '/api/policies/%2F/fed-prices');
  await wc.close();

  // RabbitMQ <- Warren, through RabbitMQ's own federation plugin.
  const w2 = await amqp.connect(warren.url);
  await (await w2.createChannel()).assertExchange('alerts', 'fanout', { durable: true });
  await w2.close();
  assert.equal((await rabbit.api('PUT', '/api/parameters/federation-upstream/%2F/warren', { value: { uri: warren.url } })).status, 201);
  assert.ok((await rabbit.api('PUT', '/api/policies/%2F/fed-alerts', { pattern: '^alerts$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'warren' } })).status < 300);
  const r2 = await amqp.connect(rabbit.url);
  const r2ch = await r2.createChannel();
  await r2ch.assertExchange('alerts', 'fanout', { durable: true });
  await r2ch.assertQueue('alerts-here', { durable: true });
  await r2ch.bindQueue('alerts-here', 'alerts', '');
  await r2.close();
  await waitFor(async () => ((await rabbit.api('GET', '/api/federation-links')).body as any[]).some((l) => l.exchange === 'alerts' && l.status === 'running'), "RabbitMQ's link to Warren running", 30_000);
  // Its upstream queue on Warren is bound to Warren's exchange: then messages published on Warren flow.
  await waitFor(async () => ((await warren.api('GET', '/api/bindings/%2F')).body as any[]).some((x) => x.source === 'alerts' || String(x.source).startsWith('federation: alerts')), 'RabbitMQ bound upstream on Warren', 30_000);
  const p2 = await amqp.connect(warren.url);
  const p2ch = await p2.createConfirmChannel();
  for (let i = 0; i < 10; i++) p2ch.publish('alerts', '', Buffer.from(`alert ${i}`));
  await p2ch.waitForConfirms();
  await p2.close();
  assert.equal((await drain(rabbit.url, 'alerts-here', 10)).length, 10);
  // Warren's /api/federation-links rows carry the fields RabbitMQ's carry for a running exchange link.
  const theirs = ((await rabbit.api('GET', '/api/federation-links')).body as any[]).find((l) => l.exchange === 'alerts');
  await warren.api('PUT', '/api/policies/%2F/fed-prices', { pattern: '^prices$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'old-rabbit' } });
  await waitFor(async () => ((await warren.api('GET', '/api/federation-links')).body as any[]).some((l) => l.exchange === 'prices' && l.status === 'running'), 'the link to RabbitMQ running again');
  const ours = ((await warren.api('GET', '/api/federation-links')).body as any[]).find((l) => l.exchange === 'prices');
  // RabbitMQ adds `local_channel` (its Erlang channel's stats) once that channel is up, so only now and
  // then: Warren's links publish through the core and have no local channel (README, federation).
  const onlyRabbits = new Set(['local_channel']);
  assert.deepEqual(Object.keys(theirs).filter((key) => !(key in ours) && !onlyRabbits.has(key)), [], `RabbitMQ's row: ${JSON.stringify(theirs)}; Warren's: ${JSON.stringify(ours)}`);
  await warren.api('DELETE', '/api/policies/%2F/fed-prices');
  await rabbit.api('DELETE', '/api/policies/%2F/fed-alerts');
});
