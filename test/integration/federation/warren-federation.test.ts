import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { sleep, waitFor } from '../../helpers/wait.js';

// Three Warren servers in one process federating with each other through their management API's
// parameters and policies, exercised by amqplib publishers and consumers.

let a: TestWarren;
let b: TestWarren;
let c: TestWarren;

async function ok(w: TestWarren, method: string, path: string, body?: unknown): Promise<void> {
  const response = await w.api(method, path, body);
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
}

before(async () => {
  [a, b, c] = await Promise.all([startWarren(), startWarren(), startWarren()]);
  for (const [w, name] of [[a, 'A'], [b, 'B'], [c, 'C']] as const) await ok(w, 'PUT', '/api/global-parameters/cluster_name', { value: name });
  // Each knows the others as upstreams.
  for (const w of [a, b, c]) {
    for (const [peer, name] of [[a, 'a'], [b, 'b'], [c, 'c']] as const) {
      if (peer !== w) await ok(w, 'PUT', `/api/parameters/federation-upstream/%2F/${name}`, { value: { uri: peer.url, 'max-hops': 2, 'reconnect-delay': 0.5 } });
    }
  }
});
after(async () => {
  await Promise.all([a?.close(), b?.close(), c?.close()]);
});

interface Collector {
  got: amqp.ConsumeMessage[];
  close(): Promise<void>;
}

/** A queue bound to `exchange` with `key` on `w`, and a consumer collecting what it receives. */
async function collect(w: TestWarren, exchange: string, type: string, queue: string, key: string): Promise<Collector> {
  const connection = await amqp.connect(w.url);
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange, type, { durable: true });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, key);
  const got: amqp.ConsumeMessage[] = [];
  await channel.consume(queue, (m) => {
    if (m !== null) got.push(m);
  }, { noAck: true });
  return { got, close: () => connection.close() };
}

async function publish(w: TestWarren, exchange: string, key: string, count: number): Promise<void> {
  const connection = await amqp.connect(w.url);
  const channel = await connection.createConfirmChannel();
  for (let i = 0; i < count; i++) channel.publish(exchange, key, Buffer.from(`${key} ${i}`), { messageId: `${key}-${i}` });
  await channel.waitForConfirms();
  await connection.close();
}

async function links(w: TestWarren): Promise<any[]> {
  return (await w.api('GET', '/api/federation-links')).body as any[];
}

async function allRunning(w: TestWarren, count: number): Promise<boolean> {
  const rows = await links(w);
  return rows.length === count && rows.every((row) => row.status === 'running');
}

test('an exchange federated over two hops (A -> B -> C) delivers each message once per local queue; bindings propagate upstream', async () => {
  for (const w of [a, b, c]) {
    const connection = await amqp.connect(w.url);
    await (await connection.createChannel()).assertExchange('events', 'topic', { durable: true });
    await connection.close();
  }
  await ok(b, 'PUT', '/api/policies/%2F/fed-events', { pattern: '^events$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'a' } });
  await ok(c, 'PUT', '/api/policies/%2F/fed-events', { pattern: '^events$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'b' } });
  const onB = await collect(b, 'events', 'topic', 'b-orders', 'order.*');
  const onC = await collect(c, 'events', 'topic', 'c-created', 'order.created');
  await waitFor(async () => (await allRunning(b, 1)) && (await allRunning(c, 1)), 'both links running');
  // C's binding reaches A through B: B's exchange has C's link queue bound with order.created.
  await waitFor(async () => ((await a.api('GET', '/api/bindings/%2F')).body as any[]).some((x) => x.routing_key === 'order.created' && String(x.destination).startsWith('federation: events -> B')), "C's key bound on A");

  await publish(a, 'events', 'order.created', 100);
  await publish(a, 'events', 'order.deleted', 10);
  await waitFor(() => onB.got.length === 110 && onC.got.length === 100, 'B got 110 and C 100');
  await sleep(300);
  assert.equal(onB.got.length, 110, 'exactly once on B');
  assert.equal(onC.got.length, 100, 'exactly once on C, and nothing it did not bind');
  const trail = onC.got[0]!.properties.headers?.['x-received-from'] as any[];
  assert.deepEqual(trail.map((e) => e['cluster-name']), ['A', 'B']);
  assert.match(trail[0].uri, /^amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+/, 'no password in the header');

  const row = (await links(c))[0];
  assert.equal(row.type, 'exchange');
  assert.equal(row.exchange, 'events');
  assert.equal(row.upstream, 'b');
  assert.equal(row.status, 'running');
  assert.doesNotMatch(JSON.stringify(await links(c)), /guest:guest/);
  const metrics = await (await fetch(`http://127.0.0.1:${c.httpPort}/metrics`)).text();
  assert.match(metrics, /warren_federation_link_running\{vhost="\/",upstream="b",type="exchange",name="events"\} 1/);

  // An unbound key stops flowing upstream once the last local binding goes.
  await onB.close();
  await onC.close();
  for (const w of [b, c]) await ok(w, 'DELETE', '/api/policies/%2F/fed-events');
  await waitFor(async () => (await links(b)).length === 0 && (await links(c)).length === 0, 'links gone with their policy');
});

test('a ring of three federated exchanges does not loop: one message, one delivery per broker', async () => {
  const ring = [
    [a, 'c'],
    [b, 'a'],
    [c, 'b'],
  ] as const;
  const collectors: Collector[] = [];
  for (const [w, upstream] of ring) {
    collectors.push(await collect(w, 'ring', 'fanout', 'ring-q', ''));
    // max-hops 5 would let it go round: only x-received-from's cluster names stop it.
    await ok(w, 'PUT', '/api/parameters/federation-upstream/%2F/ring-up', { value: { uri: (upstream === 'a' ? a : upstream === 'b' ? b : c).url, 'max-hops': 5, 'reconnect-delay': 0.5 } });
    await ok(w, 'PUT', '/api/policies/%2F/fed-ring', { pattern: '^ring$', 'apply-to': 'exchanges', definition: { 'federation-upstream': 'ring-up' } });
  }
  await waitFor(async () => (await allRunning(a, 1)) && (await allRunning(b, 1)) && (await allRunning(c, 1)), 'the ring links running');
  await waitFor(async () => ((await a.api('GET', '/api/bindings/%2F')).body as any[]).some((x) => String(x.destination).startsWith('federation: ring -> B')), 'bound around the ring');
  await waitFor(async () => ((await c.api('GET', '/api/bindings/%2F')).body as any[]).some((x) => String(x.destination).startsWith('federation: ring -> A')), 'bound around the ring (C)');
  await publish(a, 'ring', '', 1);
  await waitFor(() => collectors.every((x) => x.got.length >= 1), 'one delivery on each broker');
  await sleep(1000);
  assert.deepEqual(collectors.map((x) => x.got.length), [1, 1, 1]);
  for (const x of collectors) await x.close();
  for (const [w] of ring) await ok(w, 'DELETE', '/api/policies/%2F/fed-ring');
});

test('a federated queue pulls from its upstream only while it has consumers with nothing to do', async () => {
  const connection = await amqp.connect(a.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('work', { durable: true });
  for (let i = 0; i < 50; i++) channel.sendToQueue('work', Buffer.from(`job ${i}`), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
  await ok(b, 'PUT', '/api/policies/%2F/fed-work', { pattern: '^work$', 'apply-to': 'queues', definition: { 'federation-upstream-set': 'all' } });
  const local = await amqp.connect(b.url);
  const ch = await local.createChannel();
  await ch.assertQueue('work', { durable: true });
  await waitFor(async () => (await links(b)).some((row) => row.type === 'queue' && row.upstream === 'a' && row.status === 'running'), 'the queue link from a running');
  await sleep(600);
  assert.equal((await a.api('GET', '/api/queues/%2F/work')).body.messages, 50, 'nothing pulled without consumers');
  const got: string[] = [];
  await ch.consume('work', (m) => {
    if (m !== null) {
      got.push(m.content.toString());
      ch.ack(m);
    }
  });
  await waitFor(() => got.length === 50, 'the consumer on B getting the 50 jobs from A');
  await waitFor(async () => (await a.api('GET', '/api/queues/%2F/work')).body.messages === 0, 'A drained');
  assert.equal(new Set(got).size, 50);
  await local.close();
  await ok(b, 'DELETE', '/api/policies/%2F/fed-work');
});

test('upstream parameters are validated', async () => {
  const bad = await b.api('PUT', '/api/parameters/federation-upstream/%2F/bad', { value: { uri: 'http://nope' } });
  assert.equal(bad.status, 400);
  assert.match(bad.body.reason, /not an AMQP URI/);
  const badSet = await b.api('PUT', '/api/parameters/federation-upstream-set/%2F/s', { value: [{ name: 'x' }] });
  assert.equal(badSet.status, 400);
  assert.match(badSet.body.reason, /'name' are not recognised|needs 'upstream'/);
  assert.equal((await b.api('PUT', '/api/parameters/federation-upstream-set/%2F/s', { value: [{ upstream: 'a', 'max-hops': 3 }] })).status, 201);
});
