import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import { pino } from 'pino';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { freePort } from '../../helpers/ports.js';
import { waitFor } from '../../helpers/wait.js';

// Two whole Warren servers in this process, talking to each other through shovels: the remote side
// through amqplib, the local side (`amqp://` without a host) straight through the core.

let a: TestWarren;
let b: TestWarren;
let aPort: number;
const logLines: string[] = [];

before(async () => {
  aPort = await freePort();
  a = await startWarren({ amqpPort: aPort });
  const sink = new Writable({ write(chunk, _encoding, done) { logLines.push(String(chunk)); done(); } });
  b = await startWarren({ logger: pino({ level: 'info' }, sink) });
});
after(async () => {
  await b?.close();
  await a?.close();
});

async function publish(url: string, queue: string, count: number, from = 0): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = from; i < from + count; i++) channel.sendToQueue(queue, Buffer.from(`m${i}`), { persistent: true, messageId: `id-${i}` });
  await channel.waitForConfirms();
  await connection.close();
}

/** Takes every message of a queue (acked), in order. */
async function drain(url: string, queue: string, expected: number): Promise<amqp.ConsumeMessage[]> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  const got: amqp.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => {
    if (m === null) return;
    got.push(m);
    channel.ack(m);
  });
  await waitFor(() => got.length >= expected, `${expected} messages from ${queue}`);
  // Nothing more comes: a duplicate would arrive right behind the last message.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await connection.close();
  return got;
}

async function queueDepth(w: TestWarren, queue: string): Promise<number> {
  const { status, body } = await w.api('GET', `/api/queues/%2F/${encodeURIComponent(queue)}`);
  return status === 200 ? (body.messages as number) : -1;
}

async function shovelState(w: TestWarren, name: string): Promise<string | undefined> {
  const { body } = await w.api('GET', '/api/shovels/%2F');
  return (body as any[]).find((s) => s.name === name)?.state;
}

test('a shovel on B pulls everything from a queue on A into a local queue: exactly N, no duplicates, source empty', async () => {
  const N = 3000;
  await publish(a.url, 'old-jobs', N);
  const put = await b.api('PUT', '/api/parameters/shovel/%2F/migrate', {
    value: { 'src-uri': a.url, 'src-queue': 'old-jobs', 'dest-uri': 'amqp://', 'dest-queue': 'jobs', 'src-prefetch-count': 200 },
  });
  assert.equal(put.status, 201);
  await waitFor(async () => (await queueDepth(b, 'jobs')) === N, `${N} messages in B's jobs`);
  await waitFor(async () => (await queueDepth(a, 'old-jobs')) === 0, "A's old-jobs emptied (acked after B confirmed)");
  const got = await drain(b.url, 'jobs', N);
  assert.equal(got.length, N);
  assert.equal(new Set(got.map((m) => m.properties.messageId)).size, N, 'no duplicates');
  assert.equal(got[0]?.properties.deliveryMode, 2, 'persistence kept');
  assert.equal(got[N - 1]?.content.toString(), `m${N - 1}`);

  const status = (await b.api('GET', '/api/shovels/vhost/%2F/migrate')).body;
  assert.equal(status.state, 'running');
  assert.equal(status.type, 'dynamic');
  assert.equal(status.src_queue, 'old-jobs');
  assert.equal(status.dest_queue, 'jobs');
  assert.equal(status.src_uri, `amqp://guest:***@127.0.0.1:${aPort}`, 'the password is redacted');
  assert.equal(status.message_stats.transferred, N);
  const parameter = (await b.api('GET', '/api/parameters/shovel/%2F/migrate')).body;
  assert.equal(parameter.value['src-uri'], `amqp://guest:***@127.0.0.1:${aPort}`);
  const exported = (await b.api('GET', '/api/definitions')).body;
  assert.equal(exported.parameters[0].value['src-uri'], a.url, 'the export keeps the secret (it must reconnect after an import)');
  const metrics = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
  assert.match(metrics, /warren_shovel_running\{vhost="\/",shovel="migrate",state="running"\} 1/);
  assert.match(metrics, new RegExp(`warren_shovel_messages_transferred\\{vhost="/",shovel="migrate"\\} ${N}`));

  // It keeps running: later messages follow.
  await publish(a.url, 'old-jobs', 10, N);
  assert.equal((await drain(b.url, 'jobs', 10)).length, 10);
  assert.equal((await b.api('DELETE', '/api/parameters/shovel/%2F/migrate')).status, 204);
  await waitFor(async () => (await shovelState(b, 'migrate')) === undefined, 'the deleted shovel gone from /api/shovels');
});

test('local source to a remote exchange: forward and timestamp headers, publish properties, src-delete-after queue-length', async () => {
  await publish(b.url, 'outbox', 50);
  const connection = await amqp.connect(a.url);
  const channel = await connection.createChannel();
  await channel.assertQueue('inbox', { durable: true });
  await channel.bindQueue('inbox', 'amq.topic', 'from.b');
  await connection.close();
  const put = await b.api('PUT', '/api/parameters/shovel/%2F/once', {
    value: {
      'src-uri': 'amqp://',
      'src-queue': 'outbox',
      'dest-uri': a.url,
      'dest-exchange': 'amq.topic',
      'dest-exchange-key': 'from.b',
      'dest-add-forward-headers': true,
      'dest-add-timestamp-header': true,
      'dest-publish-properties': { app_id: 'shovelled', priority: 3 },
      'src-delete-after': 'queue-length',
    },
  });
  assert.equal(put.status, 201);
  await waitFor(async () => (await b.api('GET', '/api/parameters/shovel/%2F/once')).status === 404, 'the shovel deleting itself after the queue length');
  const got = await drain(a.url, 'inbox', 50);
  assert.equal(got.length, 50);
  const first = got[0]!;
  assert.equal(first.properties.appId, 'shovelled');
  assert.equal(first.properties.priority, 3);
  const trail = first.properties.headers?.['x-shovelled'] as Record<string, unknown>[];
  assert.equal(trail.length, 1);
  assert.equal(trail[0]?.['shovel-name'], 'once');
  assert.equal(trail[0]?.['src-queue'], 'outbox');
  assert.equal(trail[0]?.['dest-exchange'], 'amq.topic');
  assert.equal(trail[0]?.['dest-uri'], `amqp://guest:***@127.0.0.1:${aPort}`);
  assert.equal(typeof first.properties.headers?.['x-shovelled-timestamp'], 'number');
  assert.equal(await queueDepth(b, 'outbox'), 0);
});

test('src-exchange with a binding key and ack-mode no-ack; a count for src-delete-after leaves the rest in the source', async () => {
  const put = await b.api('PUT', '/api/parameters/shovel/%2F/tap', {
    value: { 'src-uri': 'amqp://', 'src-exchange': 'amq.direct', 'src-exchange-key': 'tap', 'dest-uri': 'amqp://', 'dest-queue': 'tapped', 'ack-mode': 'no-ack' },
  });
  assert.equal(put.status, 201);
  await waitFor(async () => (await shovelState(b, 'tap')) === 'running', 'the tap shovel running');
  const connection = await amqp.connect(b.url);
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < 20; i++) channel.publish('amq.direct', 'tap', Buffer.from(`t${i}`));
  channel.publish('amq.direct', 'other', Buffer.from('not for the tap'));
  await channel.waitForConfirms();
  await connection.close();
  assert.equal((await drain(b.url, 'tapped', 20)).length, 20);
  await b.api('DELETE', '/api/parameters/shovel/%2F/tap');

  await publish(b.url, 'partial', 30);
  await b.api('PUT', '/api/parameters/shovel/%2F/ten', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'partial', 'dest-uri': 'amqp://', 'dest-queue': 'ten-of-them', 'src-delete-after': 10, 'ack-mode': 'on-publish', 'src-prefetch-count': 4 },
  });
  await waitFor(async () => (await b.api('GET', '/api/parameters/shovel/%2F/ten')).status === 404, 'the count shovel finishing');
  await waitFor(async () => (await queueDepth(b, 'partial')) === 20, 'the rest back in the source');
  assert.equal(await queueDepth(b, 'ten-of-them'), 10);
});

test('invalid definitions are refused with the reason', async () => {
  const cases: [unknown, RegExp][] = [
    [{ 'src-uri': 'amqp://', 'dest-uri': 'amqp://', 'dest-queue': 'x' }, /exactly one of 'src-queue' and 'src-exchange'/],
    [{ 'src-uri': 'http://x', 'src-queue': 'q', 'dest-uri': 'amqp://' }, /not an AMQP URI/],
    [{ 'src-uri': 'amqp://', 'src-queue': 'q', 'dest-uri': 'amqp://', 'ack-mode': 'sometimes' }, /'ack-mode'/],
    [{ 'src-uri': 'amqp://', 'src-queue': 'q', 'dest-uri': 'amqp://', 'bogus-key': 1 }, /'bogus-key' are not recognised shovel settings/],
    [{ 'src-uri': 'amqp://', 'src-queue': 'q', 'dest-uri': 'amqp://', 'src-delete-after': 'later' }, /src-delete-after/],
    [{ 'src-uri': 'amqp://', 'src-queue': 'q', 'dest-uri': 'amqp://', 'src-protocol': 'amqp10' }, /only amqp091/],
  ];
  for (const [value, reason] of cases) {
    const response = await b.api('PUT', '/api/parameters/shovel/%2F/bad', { value });
    assert.equal(response.status, 400, JSON.stringify(value));
    assert.match(response.body.reason, reason);
  }
});

test('the shovel reconnects after the remote broker restarts (fail-over URIs, backoff) and loses nothing with on-confirm', async () => {
  const deadPort = await freePort();
  await b.api('PUT', '/api/parameters/shovel/%2F/resilient', {
    value: { 'src-uri': [`amqp://guest:guest@127.0.0.1:${deadPort}`, a.url], 'src-queue': 'feed', 'dest-uri': 'amqp://', 'dest-queue': 'fed', 'reconnect-delay': 0.2 },
  });
  await waitFor(async () => (await shovelState(b, 'resilient')) === 'running', 'running via the second URI');
  await publish(a.url, 'feed', 500);
  await waitFor(async () => (await queueDepth(b, 'fed')) === 500, 'the first 500');

  await a.stop();
  await waitFor(async () => (await shovelState(b, 'resilient')) === 'terminated', 'terminated while A is down');
  const down = (await b.api('GET', '/api/shovels/vhost/%2F/resilient')).body;
  assert.match(down.reason, /127\.0\.0\.1/);
  assert.doesNotMatch(JSON.stringify(down), /guest:guest/, 'no password in the reason');
  a = await startWarren({ dataDir: a.dataDir, amqpPort: aPort });
  await publish(a.url, 'feed', 500, 500);
  await waitFor(async () => (await queueDepth(b, 'fed')) >= 1000, 'all 1000 after the restart', 60_000);
  const got = await drain(b.url, 'fed', 1000);
  assert.equal(new Set(got.map((m) => m.properties.messageId)).size, 1000, 'none lost');
  // At least once: what was delivered but not yet acked at the source when A went may come again,
  // at most a prefetch window (1000, the default) of it.
  assert.ok(got.length - 1000 <= 1000, `${got.length - 1000} duplicates`);
  assert.ok(!logLines.some((line) => line.includes('guest:guest')), 'no log line holds the password');
  assert.ok(logLines.some((line) => line.includes('guest:***')), 'the log names the URI, redacted');
  await b.api('DELETE', '/api/parameters/shovel/%2F/resilient');
});

test('a dynamic shovel is a durable definition: it runs again after a restart', async () => {
  await b.api('PUT', '/api/parameters/shovel/%2F/durable-one', {
    value: { 'src-uri': 'amqp://', 'src-queue': 'keep-src', 'dest-uri': 'amqp://', 'dest-queue': 'keep-dst' },
  });
  await waitFor(async () => (await shovelState(b, 'durable-one')) === 'running', 'running before the restart');
  const dataDir = b.dataDir;
  await b.stop();
  b = await startWarren({ dataDir });
  await waitFor(async () => (await shovelState(b, 'durable-one')) === 'running', 'running after the restart');
  await publish(b.url, 'keep-src', 5);
  assert.equal((await drain(b.url, 'keep-dst', 5)).length, 5);
});

test('a destination that refuses (reject-publish) keeps the rest in the source until there is room', async () => {
  const connection = await amqp.connect(b.url);
  const channel = await connection.createChannel();
  await channel.assertQueue('small', { durable: true, arguments: { 'x-max-length': 5, 'x-overflow': 'reject-publish' } });
  await connection.close();
  await publish(b.url, 'refusing-src', 10);
  await b.api('PUT', '/api/parameters/shovel/%2F/refused', { value: { 'src-uri': 'amqp://', 'src-queue': 'refusing-src', 'dest-uri': 'amqp://', 'dest-queue': 'small' } });
  await waitFor(async () => (await queueDepth(b, 'small')) === 5, 'the first five in');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(await queueDepth(b, 'refusing-src'), 5, 'the refused five are still in the source (unacked)');
  assert.equal(await queueDepth(b, 'small'), 5);
  assert.equal((await drain(b.url, 'small', 5)).length, 5);
  await waitFor(async () => (await queueDepth(b, 'refusing-src')) === 0, 'the rest moved once there was room');
  assert.equal((await drain(b.url, 'small', 5)).length, 5);
  await b.api('DELETE', '/api/parameters/shovel/%2F/refused');
});
