/** STOMP and AMQP on the same queues and exchanges: @stomp/stompjs on one side, amqplib on the other. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import type { Client } from '@stomp/stompjs';
import { Inbox, startStompServer, stompjsClient, type StompServer } from './helpers.js';

let broker: StompServer;
let stomp: Client;
let connection: amqp.ChannelModel;

before(async () => {
  broker = await startStompServer();
  stomp = await stompjsClient(broker.wsUrl);
  connection = await amqp.connect(broker.amqpUrl);
});

after(async () => {
  await connection.close();
  await stomp.deactivate();
  await broker.close();
});

test('a STOMP SEND reaches an AMQP consumer with its headers as AMQP properties and headers', async () => {
  const channel = await connection.createChannel();
  await channel.assertQueue('to-amqp', { durable: true });
  const got = new Promise<amqp.ConsumeMessage>((resolve) => void channel.consume('to-amqp', (m) => m && resolve(m), { noAck: true }));
  stomp.publish({
    destination: '/queue/to-amqp',
    body: 'from stomp',
    headers: { persistent: 'true', 'content-type': 'text/plain', 'correlation-id': 'c-7', priority: '3', 'x-trace': 't1', 'amqp-message-id': 'm-1' },
  });
  const m = await got;
  assert.equal(m.content.toString(), 'from stomp');
  assert.equal(m.properties.deliveryMode, 2);
  assert.equal(m.properties.contentType, 'text/plain');
  assert.equal(m.properties.correlationId, 'c-7');
  assert.equal(m.properties.priority, 3);
  assert.equal(m.properties.messageId, 'm-1');
  assert.equal(m.properties.headers?.['x-trace'], 't1');
  assert.equal(m.fields.routingKey, 'to-amqp');
  await channel.close();
});

test('an AMQP publish to amq.topic reaches a STOMP /topic/ subscriber, AMQP headers as STOMP headers', async () => {
  const inbox = new Inbox();
  stomp.subscribe('/topic/sensors.*', inbox.push);
  await new Promise<void>((resolve) => {
    stomp.watchForReceipt('sub-ready', () => resolve());
    stomp.publish({ destination: '/queue/sync', body: '', headers: { receipt: 'sub-ready' } });
  });
  const channel = await connection.createChannel();
  channel.publish('amq.topic', 'sensors.t1', Buffer.from('21.5'), { headers: { unit: 'C', count: 2 }, contentType: 'text/plain', replyTo: 'r', messageId: 'id-9' });
  const m = await inbox.next();
  assert.equal(m.body, '21.5');
  assert.equal(m.headers['destination'], '/topic/sensors.t1');
  assert.equal(m.headers['unit'], 'C');
  assert.equal(m.headers['count'], '2');
  assert.equal(m.headers['content-type'], 'text/plain');
  assert.equal(m.headers['reply-to'], 'r');
  assert.equal(m.headers['amqp-message-id'], 'id-9');
  await channel.close();
});

test('an AMQP-declared queue is consumed from STOMP with /amq/queue/', async () => {
  const channel = await connection.createChannel();
  await channel.assertQueue('amqp-made', { durable: false, arguments: { 'x-max-length': 10 } });
  channel.sendToQueue('amqp-made', Buffer.from('made by amqp'));
  const inbox = new Inbox();
  stomp.subscribe('/amq/queue/amqp-made', inbox.push);
  assert.equal((await inbox.next()).body, 'made by amqp');
  await channel.close();
});
