/**
 * Topic permissions at the STOMP door, with @stomp/stompjs: SUBSCRIBE to a /topic/ key the user may
 * not read and SEND to one it may not write are refused with an ERROR frame (access refused), while
 * allowed keys work.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client, IFrame } from '@stomp/stompjs';
import { Inbox, startStompServer, stompjsClient, type StompServer } from './helpers.js';

let broker: StompServer;
const clients: Client[] = [];

before(async () => {
  broker = await startStompServer();
  const users = broker.server.users;
  users.addUser('app', 'pw');
  users.setPermissions('app', '/', { configure: '.*', write: '.*', read: '.*' });
  users.setTopicPermissions('app', '/', 'amq.topic', { write: '^orders\\.', read: '^(orders|news)\\.' });
});

after(async () => {
  await Promise.all(clients.map((c) => c.deactivate()));
  await broker.close();
});

async function app(): Promise<{ client: Client; errors: IFrame[] }> {
  const client = await stompjsClient(broker.wsUrl, { login: 'app', passcode: 'pw', host: '/' });
  clients.push(client);
  const errors: IFrame[] = [];
  client.onStompError = (frame) => errors.push(frame);
  return { client, errors };
}

test('STOMP: allowed topic keys work; a refused SUBSCRIBE and a refused SEND get ERROR frames', async () => {
  const { client } = await app();
  const inbox = new Inbox();
  client.subscribe('/topic/news.*', inbox.push);
  await new Promise((r) => setTimeout(r, 200));
  client.publish({ destination: '/topic/orders.new', body: 'ok' });
  const guest = await stompjsClient(broker.wsUrl);
  clients.push(guest);
  guest.publish({ destination: '/topic/news.today', body: 'hello' });
  assert.equal((await inbox.next()).body, 'hello');

  const reader = await app();
  reader.client.subscribe('/topic/secret.#', () => undefined);
  await waitUntil(() => reader.errors.length > 0);
  assert.match(`${reader.errors[0]!.headers['message']} ${reader.errors[0]!.body}`, /read access to topic 'secret.#' in exchange 'amq.topic' in vhost '\/' refused for user 'app'/);

  const writer = await app();
  writer.client.publish({ destination: '/topic/news.fake', body: 'no' });
  await waitUntil(() => writer.errors.length > 0);
  assert.match(`${writer.errors[0]!.headers['message']} ${writer.errors[0]!.body}`, /write access to topic 'news.fake' in exchange 'amq.topic' in vhost '\/' refused for user 'app'/);
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(condition(), 'condition met within 5 s');
}
