import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import { sleep, waitFor } from '../../helpers/wait.js';
import { api, startJobsBroker, type JobsBroker } from '../jobs/helpers.js';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  at: number;
}

/** A real HTTP endpoint whose answers a test scripts per path. */
class Endpoint {
  readonly seen: Seen[] = [];
  inFlight = 0;
  maxInFlight = 0;
  handler: (req: Seen, res: ServerResponse) => void = (_req, res) => res.writeHead(200).end();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      this.seen.push(seen);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => this.inFlight--);
      this.handler(seen, res);
    });
  });
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let broker: JobsBroker;
let endpoint: Endpoint;
let base: string;
let connection: Awaited<ReturnType<typeof amqp.connect>>;
let channel: Awaited<ReturnType<(typeof connection)['createConfirmChannel']>>;

before(async () => {
  broker = await startJobsBroker();
  endpoint = new Endpoint();
  base = await endpoint.listen();
  connection = await amqp.connect(broker.amqpUrl);
  channel = await connection.createConfirmChannel();
  await channel.assertExchange('dead', 'fanout', { durable: true });
  await channel.assertQueue('dead-letters', { durable: true });
  await channel.bindQueue('dead-letters', 'dead', '');
});
after(async () => {
  await connection.close();
  await endpoint.close();
  await broker.close();
});

async function pushQueue(name: string, args: Record<string, unknown>): Promise<void> {
  await channel.assertQueue(name, { durable: true, arguments: { 'x-push-endpoint': `${base}/${name}`, 'x-dead-letter-exchange': 'dead', ...args } });
}

function publish(queue: string, body: string, options: amqp.Options.Publish = {}): Promise<void> {
  return new Promise((resolve, reject) => channel.sendToQueue(queue, Buffer.from(body), { persistent: true, ...options }, (e) => (e ? reject(e) : resolve())));
}

test('POSTs the body with properties as headers and a Standard Webhooks signature; a 500 is retried with backoff', async () => {
  let calls = 0;
  endpoint.handler = (req, res) => res.writeHead(req.path === '/signed' && ++calls === 1 ? 500 : 204).end();
  await pushQueue('signed', { 'x-push-secret': 'main', 'x-push-min-backoff': 200 });
  await publish('signed', '{"hello":"world"}', { contentType: 'application/json', messageId: 'm-1', headers: { tenant: 'acme' } });
  await waitFor(() => endpoint.seen.filter((s) => s.path === '/signed').length === 2, 'a retry after the 500');
  const [first, second] = endpoint.seen.filter((s) => s.path === '/signed') as [Seen, Seen];
  assert.equal(second.body, '{"hello":"world"}');
  assert.equal(second.headers['content-type'], 'application/json');
  assert.equal(second.headers['webhook-id'], 'm-1');
  assert.equal(second.headers['warren-header-tenant'], 'acme');
  assert.equal(second.headers['warren-attempt'], '2');
  assert.ok(second.at - first.at >= 190, `backoff ${second.at - first.at} ms`);
  // The signature, checked independently with node:crypto over id.timestamp.body.
  const key = Buffer.from('test-secret-key');
  const expected = createHmac('sha256', key).update(`m-1.${second.headers['webhook-timestamp']}.${second.body}`).digest('base64');
  assert.equal(second.headers['webhook-signature'], `v1,${expected}`);
  await waitFor(async () => (await channel.checkQueue('signed')).messageCount === 0, 'the queue to empty');
  await sleep(100);
  assert.equal((await api(broker, 'GET', '/api/queues/%2F/signed')).json.messages_unacknowledged, 0);
});

test('429 with Retry-After holds the queue at least that long; 410 dead-letters at once with the last status', async () => {
  const times: number[] = [];
  endpoint.handler = (req, res) => {
    if (req.path === '/slow-down') {
      times.push(req.at);
      if (times.length === 1) res.writeHead(429, { 'retry-after': '1' }).end();
      else res.writeHead(200).end();
    } else if (req.path === '/gone') res.writeHead(410).end();
    else res.writeHead(200).end();
  };
  await pushQueue('slow-down', {});
  await pushQueue('gone', {});
  await publish('slow-down', 'a');
  await publish('gone', 'never');
  await waitFor(() => times.length === 2, 'the request after Retry-After');
  assert.ok(times[1]! - times[0]! >= 950, `waited ${times[1]! - times[0]!} ms`);
  let dead: amqp.GetMessage | false = false;
  await waitFor(async () => (dead = await channel.get('dead-letters', { noAck: true })) !== false, 'the dead letter');
  const letter = dead as unknown as amqp.GetMessage;
  assert.equal(letter.content.toString(), 'never');
  assert.equal(letter.properties.headers?.['x-push-last-status'], 410);
  assert.equal(endpoint.seen.filter((s) => s.path === '/gone').length, 1);
});

test('a hanging endpoint times out; after max attempts the message is dead-lettered with the last error', async () => {
  endpoint.handler = (req, res) => {
    if (req.path !== '/hang') res.writeHead(200).end();
  };
  await pushQueue('hang', { 'x-push-timeout': 150, 'x-push-max-attempts': 2, 'x-push-min-backoff': 10 });
  await publish('hang', 'stuck');
  let dead: amqp.GetMessage | false = false;
  await waitFor(async () => (dead = await channel.get('dead-letters', { noAck: true })) !== false, 'the dead letter');
  const letter = dead as unknown as amqp.GetMessage;
  assert.equal(letter.content.toString(), 'stuck');
  assert.match(String(letter.properties.headers?.['x-push-last-error']), /no answer within 150 ms/);
  assert.equal(letter.properties.headers?.['x-push-attempts'], 2);
  const { json } = await api(broker, 'GET', '/api/push');
  const state = (json as { queue: string; dead_lettered: number; last_error: string }[]).find((s) => s.queue === 'hang');
  assert.equal(state?.dead_lettered, 1);
});

test('concurrency limit: never more requests in flight than x-push-concurrency', async () => {
  endpoint.maxInFlight = 0;
  endpoint.handler = (req, res) => {
    if (req.path === '/limited') setTimeout(() => res.writeHead(200).end(), 50);
    else res.writeHead(200).end();
  };
  await pushQueue('limited', { 'x-push-concurrency': 3 });
  for (let i = 0; i < 12; i++) await publish('limited', String(i));
  await waitFor(() => endpoint.seen.filter((s) => s.path === '/limited').length === 12, 'twelve deliveries');
  assert.equal(endpoint.maxInFlight, 3);
  type State = { queue: string; delivered: number; last_status: number };
  const limited = async (): Promise<State | undefined> => ((await api(broker, 'GET', '/api/push')).json as State[]).find((s) => s.queue === 'limited');
  await waitFor(async () => (await limited())?.delivered === 12, 'the push state to count twelve deliveries');
  assert.equal((await limited())?.last_status, 200);
});

test('safe by default: a host that is not allow-listed and resolves to loopback is refused, not called', async () => {
  const port = new URL(base).port;
  await channel.assertQueue('refused', { durable: true, arguments: { 'x-push-endpoint': `http://localhost:${port}/refused`, 'x-push-max-attempts': 1, 'x-dead-letter-exchange': 'dead' } });
  await publish('refused', 'x');
  let dead: amqp.GetMessage | false = false;
  await waitFor(async () => (dead = await channel.get('dead-letters', { noAck: true })) !== false, 'the refused message dead-lettered');
  assert.match(String((dead as unknown as amqp.GetMessage).properties.headers?.['x-push-last-error']), /loopback/);
  assert.equal(endpoint.seen.filter((s) => s.path === '/refused').length, 0);
});

test('a push queue with x-dispatch-rate-limit: 10 messages at 4 per 500 ms reach the endpoint over at least 700 ms', async () => {
  endpoint.handler = (_req, res) => res.writeHead(200).end();
  await pushQueue('rated', { 'x-dispatch-rate-limit': 4, 'x-dispatch-rate-interval': 500, 'x-push-concurrency': 10 });
  for (let i = 0; i < 10; i++) await publish('rated', `r${i}`);
  await waitFor(() => endpoint.seen.filter((s) => s.path === '/rated').length === 10, 'ten requests');
  const times = endpoint.seen.filter((s) => s.path === '/rated').map((s) => s.at);
  // 4 at once from the full bucket, then 6 more tokens at one per 125 ms.
  assert.ok(times[9]! - times[0]! >= 700, `10 requests within ${times[9]! - times[0]!} ms`);
  assert.deepEqual(endpoint.seen.filter((s) => s.path === '/rated').map((s) => s.body).sort(), Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
});
