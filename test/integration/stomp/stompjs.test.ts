/**
 * @stomp/stompjs (the browser and Node STOMP client) over Warren's WebSocket endpoint /ws: the STOMP
 * door's commands, RabbitMQ's destinations and the management API's view of STOMP connections.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@stomp/stompjs';
import { Inbox, nextStompError, startStompServer, stompjsClient, type StompServer } from './helpers.js';

let broker: StompServer;
const clients: Client[] = [];

async function client(headers?: Record<string, string>): Promise<Client> {
  const c = await stompjsClient(broker.wsUrl, headers);
  clients.push(c);
  return c;
}

before(async () => {
  broker = await startStompServer();
});

after(async () => {
  await Promise.all(clients.map((c) => c.deactivate()));
  await broker.close();
});

test('SEND to /queue/ reaches a SUBSCRIBE, custom headers and properties kept; shown in /api/connections', async () => {
  const c = await client();
  const inbox = new Inbox();
  c.subscribe('/queue/jobs', inbox.push);
  c.publish({ destination: '/queue/jobs', body: 'hello', headers: { 'x-custom': 'v:1', 'content-type': 'text/plain', 'correlation-id': 'c1' } });
  const m = await inbox.next();
  assert.equal(m.body, 'hello');
  assert.equal(m.headers['x-custom'], 'v:1');
  assert.equal(m.headers['content-type'], 'text/plain');
  assert.equal(m.headers['correlation-id'], 'c1');
  assert.equal(m.headers['destination'], '/queue/jobs');
  assert.ok(broker.server.broker.getVhost('/')?.getQueue('jobs')?.durable, '/queue/ declares a durable queue');
  const response = await fetch(`http://127.0.0.1:${broker.httpPort}/api/connections`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  const connections = (await response.json()) as Array<{ protocol: string; user: string; vhost: string }>;
  const stomp = connections.filter((x) => x.protocol === 'STOMP 1.2');
  assert.ok(stomp.length >= 1, JSON.stringify(connections));
  assert.equal(stomp[0]!.user, 'guest');
  assert.equal(stomp[0]!.vhost, '/');
});

test('ack:client-individual: NACK requeues (redelivered), ACK settles', async () => {
  const c = await client();
  const inbox = new Inbox();
  c.subscribe('/queue/acks', inbox.push, { ack: 'client-individual', 'prefetch-count': '1' });
  c.publish({ destination: '/queue/acks', body: 'one' });
  c.publish({ destination: '/queue/acks', body: 'two' });
  const first = await inbox.next();
  assert.equal(first.body, 'one');
  first.nack();
  const again = await inbox.next();
  assert.equal(again.body, 'one');
  assert.equal(again.headers['redelivered'], 'true');
  again.ack();
  const second = await inbox.next();
  assert.equal(second.body, 'two');
  second.ack();
  await new Promise((r) => setTimeout(r, 100));
  const queue = broker.server.broker.getVhost('/')?.getQueue('acks');
  assert.equal(queue?.readyCount(), 0);
  assert.equal(queue?.unackedCount(), 0);
});

test('/topic/ fans out to every subscriber; /exchange/amq.direct/key routes by key', async () => {
  const a = await client();
  const b = await client();
  const inA = new Inbox();
  const inB = new Inbox();
  const direct = new Inbox();
  a.subscribe('/topic/news.*', inA.push);
  b.subscribe('/topic/news.sport', inB.push);
  b.subscribe('/exchange/amq.direct/k1', direct.push);
  await waitForReceiptOf(b);
  a.publish({ destination: '/topic/news.sport', body: 'goal' });
  a.publish({ destination: '/exchange/amq.direct/k1', body: 'direct' });
  assert.equal((await inA.next()).body, 'goal');
  const m = await inB.next();
  assert.equal(m.body, 'goal');
  assert.equal(m.headers['destination'], '/topic/news.sport');
  assert.equal((await direct.next()).body, 'direct');
});

test('reply-to /temp-queue/ is rewritten to /reply-queue/ and the reply comes back to the requester', async () => {
  const requester = await client();
  const responder = await client();
  const requests = new Inbox();
  responder.subscribe('/queue/rpc', requests.push);
  await waitForReceiptOf(responder);
  const replies = new Inbox();
  requester.onUnhandledMessage = replies.push;
  requester.publish({ destination: '/queue/rpc', body: 'ping', headers: { 'reply-to': '/temp-queue/replies' } });
  const request = await requests.next();
  const replyTo = request.headers['reply-to'] ?? '';
  assert.match(replyTo, /^\/reply-queue\/amq\.gen-/);
  responder.publish({ destination: replyTo, body: 'pong' });
  const reply = await replies.next();
  assert.equal(reply.body, 'pong');
  assert.equal(reply.headers['subscription'], '/temp-queue/replies');
});

test('BEGIN/ABORT discards, BEGIN/COMMIT delivers; SEND receipts once durable', async () => {
  const c = await client();
  const inbox = new Inbox();
  c.subscribe('/queue/tx', inbox.push);
  const aborted = c.begin();
  c.publish({ destination: '/queue/tx', body: 'never', headers: { transaction: aborted.id } });
  aborted.abort();
  const tx = c.begin();
  c.publish({ destination: '/queue/tx', body: 'committed', headers: { transaction: tx.id } });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(inbox.messages.length, 0, 'nothing before COMMIT');
  tx.commit();
  assert.equal((await inbox.next()).body, 'committed');
  const receipt = new Promise<void>((resolve) => c.watchForReceipt('r-durable', () => resolve()));
  c.publish({ destination: '/queue/tx', body: 'persistent', headers: { persistent: 'true', receipt: 'r-durable' } });
  await receipt;
  assert.equal((await inbox.next()).headers['persistent'], 'true');
  assert.equal(inbox.messages.length, 0);
});

test('durable topic subscription keeps messages while its subscriber is away', async () => {
  const headers = { login: 'guest', passcode: 'guest', host: '/', 'client-id': 'app-1' };
  const first = await client(headers);
  const sub = first.subscribe('/topic/orders.#', () => undefined, { id: 'orders', durable: 'true', 'auto-delete': 'false' });
  await waitForReceiptOf(first);
  void sub;
  await first.deactivate();
  const publisher = await client();
  publisher.publish({ destination: '/topic/orders.new', body: 'while away', headers: { persistent: 'true' } });
  const second = await client(headers);
  const inbox = new Inbox();
  second.subscribe('/topic/orders.#', inbox.push, { id: 'orders', durable: 'true', 'auto-delete': 'false' });
  assert.equal((await inbox.next()).body, 'while away');
});

test('errors: a missing /amq/queue/ and an unknown destination get ERROR frames with clear messages', async () => {
  const c = await client();
  const error = nextStompError(c);
  c.subscribe('/amq/queue/missing', () => undefined);
  const frame = await error;
  assert.equal(frame.headers['message'], 'not_found');
  assert.match(frame.body, /no queue 'missing' in vhost '\/'/);
  const d = await client();
  const bad = nextStompError(d);
  d.publish({ destination: '/nowhere/x', body: 'x' });
  const badFrame = await bad;
  assert.equal(badFrame.headers['message'], 'Unknown destination');
});

test('permissions: a user without write permission gets access_refused; a bad password is refused', async () => {
  const users = broker.server.users;
  users.addUser('reader', 'secret');
  users.setPermissions('reader', '/', { configure: '.*', write: '^$', read: '.*' });
  const c = await client({ login: 'reader', passcode: 'secret', host: '/' });
  const error = nextStompError(c);
  c.publish({ destination: '/topic/x', body: 'no' });
  const frame = await error;
  assert.equal(frame.headers['message'], 'access_refused');
  assert.match(frame.body, /write access to exchange 'amq.topic'/);
  await assert.rejects(stompjsClient(broker.wsUrl, { login: 'reader', passcode: 'wrong', host: '/' }), /Bad CONNECT/);
  users.addUser('writer', 'secret');
  users.setPermissions('writer', '/', { configure: '.*', write: '.*', read: '^$' });
  const w = await client({ login: 'writer', passcode: 'secret', host: '/' });
  const refused = nextStompError(w);
  w.subscribe('/queue/not-readable', () => undefined);
  assert.equal((await refused).headers['message'], 'access_refused');
  assert.equal(broker.server.broker.getVhost('/')?.getQueue('not-readable'), undefined, 'a refused SUBSCRIBE declares nothing');
});

/** A SUBSCRIBE with a receipt: once it is back, the subscriptions before it are in place. */
function waitForReceiptOf(c: Client): Promise<void> {
  const id = `sync-${Math.random()}`;
  return new Promise((resolve) => {
    c.watchForReceipt(id, () => resolve());
    c.publish({ destination: '/queue/sync-receipts', body: '', headers: { receipt: id } });
  });
}

test('heart-beats: a stomp.js client asking for 1 s beats both ways stays connected past several intervals', async () => {
  const { Client } = await import('@stomp/stompjs');
  const { default: WebSocket } = await import('ws');
  let beatsMissed = false;
  const c = new Client({
    webSocketFactory: () => new WebSocket(broker.wsUrl, ['v12.stomp']),
    connectHeaders: { login: 'guest', passcode: 'guest', host: '/' },
    reconnectDelay: 0,
    heartbeatIncoming: 1000,
    heartbeatOutgoing: 1000,
    onWebSocketClose: () => (beatsMissed = true),
  });
  const connected = new Promise<string>((resolve) => (c.onConnect = (frame) => resolve(frame.headers['heart-beat'] ?? '')));
  c.activate();
  assert.equal(await connected, '1000,1000');
  await new Promise((r) => setTimeout(r, 3500));
  assert.equal(beatsMissed, false, 'neither side gave up on the other');
  const inbox = new Inbox();
  c.subscribe('/queue/after-beats', inbox.push);
  c.publish({ destination: '/queue/after-beats', body: 'alive' });
  assert.equal((await inbox.next()).body, 'alive');
  await c.deactivate();
});
