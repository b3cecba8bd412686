/**
 * Protocol edges with a bare codec client: bad packets close only their own connection (with a
 * DISCONNECT reason in 5.0), QoS 2 packet ids are kept across a reconnect, keepalive, anonymous access.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Reason } from '../../../src/mqtt/codec/index.js';
import { seededRandom } from '../../../src/util/prng.js';
import { connectMqtt, endMqtt, inbox, startMqttBroker, type MqttTestBroker } from './helpers.js';
import { RawClient } from './raw-client.js';
import { sleep, waitFor } from '../../helpers/wait.js';

let broker: MqttTestBroker;
before(async () => {
  broker = await startMqttBroker();
});
after(async () => {
  await broker.close();
});

test('bad input closes that connection only: garbage, lying lengths, invalid UTF-8, wildcards in publish topics', async () => {
  const bystander = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(bystander);
  await bystander.subscribeAsync('alive', { qos: 1 });
  const cases: { name: string; bytes?: number[]; publishTopic?: string; expect?: number }[] = [
    { name: 'not CONNECT first', bytes: [0xc0, 0] },
    { name: 'lying remaining length', bytes: [0x30, 0xff, 0xff, 0xff, 0x7f, 0, 1] },
    { name: 'invalid UTF-8 topic', bytes: [0x30, 5, 0, 2, 0xc3, 0x28, 0x61], expect: Reason.MalformedPacket },
    { name: 'wildcard in a publish topic', publishTopic: 'a/+/b', expect: Reason.TopicNameInvalid },
    { name: 'second CONNECT', bytes: [0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 5, 2, 0, 0, 0, 0, 0], expect: Reason.ProtocolError },
  ];
  const random = seededRandom(7);
  for (let i = 0; i < 20; i++) cases.push({ name: `random bytes ${i}`, bytes: Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 256)) });
  for (const c of cases) {
    const raw = await RawClient.open(broker.mqttPort, 5);
    if (c.name !== 'not CONNECT first' && !c.name.startsWith('random')) await raw.connect(`bad-${c.name}`);
    if (c.publishTopic !== undefined) raw.send({ type: 'publish', dup: false, qos: 0, retain: false, topic: c.publishTopic, packetId: undefined, payload: Buffer.from('x'), properties: {} });
    if (c.bytes !== undefined) raw.sendBytes(c.bytes);
    if (c.name.startsWith('random')) raw.socket.end();
    await raw.waitClosed();
    if (c.expect !== undefined) {
      const disconnect = raw.received.find((p) => p.type === 'disconnect');
      assert.equal(disconnect?.type === 'disconnect' ? disconnect.reasonCode : undefined, c.expect, c.name);
    }
  }
  await bystander.publishAsync('alive', 'still here', { qos: 1 });
  await waitFor(() => got.length >= 1, 'the bystander still works');
  await endMqtt(bystander);
});

test('an unsupported protocol level gets CONNACK 0x01, then the connection closes (3.1.2.2)', async () => {
  const raw = await RawClient.open(broker.mqttPort, 4);
  raw.sendBytes([0x10, 10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 0]);
  const connack = await raw.next('connack');
  assert.equal(connack.reasonCode, 1);
  await raw.waitClosed();
});

test('QoS 2: a re-sent PUBLISH after a reconnect is not routed twice; PUBREL completes it', async () => {
  const watcher = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(watcher);
  await watcher.subscribeAsync('exactly/once', { qos: 2 });
  const session = { cleanStart: false, properties: { sessionExpiryInterval: 60 } };
  const first = await RawClient.open(broker.mqttPort, 5);
  await first.connect('qos2-sender', session);
  const publish = { type: 'publish' as const, dup: false, qos: 2 as const, retain: false, topic: 'exactly/once', packetId: 42, payload: Buffer.from('once'), properties: {} };
  first.send(publish);
  assert.equal((await first.next('pubrec')).packetId, 42);
  first.end(); // gone before PUBREL
  await sleep(50);
  const second = await RawClient.open(broker.mqttPort, 5);
  const connack = await second.connect('qos2-sender', session);
  assert.equal(connack.sessionPresent, true);
  second.send({ ...publish, dup: true });
  assert.equal((await second.next('pubrec')).packetId, 42);
  second.send({ type: 'pubrel', packetId: 42, reasonCode: 0 });
  const pubcomp = await second.next('pubcomp');
  assert.deepEqual([pubcomp.packetId, pubcomp.reasonCode], [42, 0]);
  second.send({ type: 'pubrel', packetId: 42, reasonCode: 0 });
  assert.equal((await second.next('pubcomp')).reasonCode, Reason.PacketIdentifierNotFound);
  await sleep(100);
  assert.deepEqual(got.map((m) => m.payload), ['once']);
  second.send({ type: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 0 } });
  await endMqtt(watcher);
});

test('keepalive: a silent client is disconnected after 1.5 x its keep alive', async () => {
  const raw = await RawClient.open(broker.mqttPort, 5);
  await raw.connect('sleepy', { keepAlive: 1 });
  const started = Date.now();
  await raw.waitClosed();
  assert.ok(Date.now() - started >= 1400, 'waited 1.5 s');
  const disconnect = raw.received.find((p) => p.type === 'disconnect');
  assert.equal(disconnect?.type === 'disconnect' ? disconnect.reasonCode : undefined, Reason.KeepAliveTimeout);
});

test('5.0 maximum packet size: a message larger than the client accepts is not sent to it', async () => {
  const raw = await RawClient.open(broker.mqttPort, 5);
  await raw.connect('small-packets', { properties: { maximumPacketSize: 64 } });
  raw.send({ type: 'subscribe', packetId: 1, subscriptions: [{ filter: 'size/#', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} });
  await raw.next('suback');
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await pub.publishAsync('size/big', Buffer.alloc(200), { qos: 1 });
  await pub.publishAsync('size/small', 'ok', { qos: 1 });
  const delivered = await raw.next('publish');
  assert.equal(delivered.topic, 'size/small');
  raw.end();
  await endMqtt(pub);
});

test('mqtt.allowAnonymous false refuses clients without a user name', async () => {
  const strict = await startMqttBroker({ mqtt: { settings: { allowAnonymous: false } } });
  try {
    await assert.rejects(connectMqtt(strict.mqttUrl, { protocolVersion: 4 }), /Bad username or password/i);
    const ok = await connectMqtt(strict.mqttUrl, { protocolVersion: 4, username: 'guest', password: 'guest' });
    await endMqtt(ok);
  } finally {
    await strict.close();
  }
});

test('a resource alarm stops reading MQTT publishers until it clears; subscribers keep receiving', async () => {
  const sub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(sub);
  await sub.subscribeAsync('alarm/#', { qos: 1 });
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  broker.mqtt.setBlocked('memory');
  try {
    await pub.publishAsync('alarm/first', 'read before the block', { qos: 1 });
    let secondAcked = false;
    const second = pub.publishAsync('alarm/second', 'held', { qos: 1 }).then(() => (secondAcked = true));
    await sleep(300);
    assert.equal(secondAcked, false, 'the blocked publisher is not read');
    const states = [...broker.mqtt.connections()].map((c) => c.info().state);
    assert.ok(states.includes('blocked'), `states ${states.join(',')}`);
    broker.mqtt.setBlocked(undefined);
    await second;
  } finally {
    broker.mqtt.setBlocked(undefined);
  }
  await waitFor(() => got.length >= 2, 'both messages');
  await Promise.all([endMqtt(sub), endMqtt(pub)]);
});
