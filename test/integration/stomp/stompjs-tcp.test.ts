/**
 * @stomp/stompjs over plain TCP (its own @stomp/tcp-wrapper in place of a WebSocket), against the STOMP
 * port: the path Node services take. Also RabbitMQ's rule for a CONNECT without login (guest, from the
 * local machine only), seen from a non-loopback address of this machine; prefetch-count; the vhost
 * chosen by the host header.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, type IFrame, type StompHeaders } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';
import { nonLoopbackAddress } from '../../helpers/non-loopback.js';
import { Inbox, startStompServer, type StompServer } from './helpers.js';

let broker: StompServer;
const remote = nonLoopbackAddress();

before(async () => {
  // Listening on every address, so the non-loopback test can reach it.
  broker = await startStompServer(undefined, { 'stomp-host': '0.0.0.0' });
});
after(async () => {
  await broker.close();
});

/** Resolves with the client once CONNECTED; rejects with the ERROR frame's message otherwise. */
function tcpClient(host: string, connectHeaders: StompHeaders): Promise<Client> {
  const client = new Client({ webSocketFactory: () => new TCPWrapper(host, broker.stompPort), connectHeaders, reconnectDelay: 0, heartbeatIncoming: 0, heartbeatOutgoing: 0 });
  return new Promise((resolve, reject) => {
    client.onConnect = () => resolve(client);
    client.onStompError = (frame: IFrame) => {
      void client.deactivate();
      reject(new Error(`${frame.headers['message'] ?? ''}: ${frame.body}`));
    };
    client.onWebSocketClose = () => reject(new Error('closed before CONNECTED'));
    client.activate();
  });
}

test('stomp.js over TCP: SEND with a receipt and custom headers, SUBSCRIBE ack:client-individual, ACK settles', async () => {
  const client = await tcpClient('127.0.0.1', { login: 'guest', passcode: 'guest', host: '/' });
  const inbox = new Inbox();
  client.subscribe('/queue/tcp-stompjs', inbox.push, { ack: 'client-individual', durable: 'true', 'auto-delete': 'false' });
  const receipt = new Promise<void>((resolve) => client.watchForReceipt('tcp-1', () => resolve()));
  client.publish({ destination: '/queue/tcp-stompjs', body: 'over tcp', headers: { receipt: 'tcp-1', 'x-device': 'd1', persistent: 'true', 'content-type': 'text/plain' } });
  await receipt;
  const message = await inbox.next();
  assert.equal(message.body, 'over tcp');
  assert.equal(message.headers['x-device'], 'd1');
  assert.equal(message.headers['persistent'], 'true');
  assert.equal(message.headers['content-type'], 'text/plain');
  message.ack();
  const queue = broker.server.broker.getVhost('/')?.getQueue('tcp-stompjs');
  const settled = Date.now() + 2000;
  while (queue?.unackedCount() !== 0 && Date.now() < settled) await new Promise((r) => setTimeout(r, 20));
  assert.equal(queue?.unackedCount(), 0);
  assert.equal(queue?.readyCount(), 0);
  await client.deactivate();
});

test('a CONNECT without login is guest from loopback and refused from another address', { skip: remote === undefined ? 'this machine has no non-loopback IPv4 address' : false }, async () => {
  const local = await tcpClient('127.0.0.1', {});
  await local.deactivate();
  await assert.rejects(tcpClient(remote!, {}), /accepted only from localhost/);
  // With credentials the same address is served (it is only the implicit guest that is refused).
  broker.server.users.addUser('remote-dev', 'pw');
  broker.server.users.setPermissions('remote-dev', '/', { configure: '.*', write: '.*', read: '.*' });
  const named = await tcpClient(remote!, { login: 'remote-dev', passcode: 'pw' });
  await named.deactivate();
});

test('prefetch-count 2 with ack:client-individual: two unacknowledged at most, each ACK lets the next through', async () => {
  const client = await tcpClient('127.0.0.1', { login: 'guest', passcode: 'guest' });
  const inbox = new Inbox();
  client.subscribe('/queue/tcp-prefetch', inbox.push, { ack: 'client-individual', 'prefetch-count': '2' });
  for (let i = 1; i <= 5; i++) client.publish({ destination: '/queue/tcp-prefetch', body: String(i) });
  const queue = () => broker.server.broker.getVhost('/')?.getQueue('tcp-prefetch');
  const first = await inbox.next();
  const second = await inbox.next();
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual([first.body, second.body], ['1', '2']);
  assert.deepEqual([inbox.messages.length, queue()?.unackedCount(), queue()?.readyCount()], [0, 2, 3]);
  first.ack();
  assert.equal((await inbox.next()).body, '3');
  second.ack();
  assert.equal((await inbox.next()).body, '4');
  await client.deactivate();
});

test('the host header picks the vhost: a queue there is not the one of the same name in /; an unknown vhost is refused', async () => {
  broker.server.broker.addVhost('devices');
  broker.server.users.addUser('fleet', 'pw');
  broker.server.users.setPermissions('fleet', 'devices', { configure: '.*', write: '.*', read: '.*' });
  const client = await tcpClient('127.0.0.1', { login: 'fleet', passcode: 'pw', host: 'devices' });
  const inbox = new Inbox();
  client.subscribe('/queue/readings', inbox.push);
  client.publish({ destination: '/queue/readings', body: 'in devices' });
  assert.equal((await inbox.next()).body, 'in devices');
  assert.notEqual(broker.server.broker.getVhost('devices')?.getQueue('readings'), undefined);
  assert.equal(broker.server.broker.getVhost('/')?.getQueue('readings'), undefined);
  await client.deactivate();
  await assert.rejects(tcpClient('127.0.0.1', { login: 'fleet', passcode: 'pw', host: 'nowhere' }), /Virtual host 'nowhere' access denied/);
  await assert.rejects(tcpClient('127.0.0.1', { login: 'fleet', passcode: 'pw', host: '/' }), /Virtual host '\/' access denied/);
});
