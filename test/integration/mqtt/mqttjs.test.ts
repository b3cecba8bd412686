/** MQTT.js (the `mqtt` npm package), 3.1.1 and 5.0, against Warren's MQTT door. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, sleep } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox, sessionPresent, startMqttBroker, type MqttTestBroker, type Received } from './helpers.js';

let broker: MqttTestBroker;
before(async () => {
  broker = await startMqttBroker();
});
after(async () => {
  await broker.close();
});

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5.0'}: QoS 0, 1 and 2 publish reach a wildcard subscriber`, async () => {
    const sub = await connectMqtt(broker.mqttUrl, { protocolVersion, clientId: `sub-${protocolVersion}` });
    const pub = await connectMqtt(broker.mqttUrl, { protocolVersion, username: 'guest', password: 'guest' });
    const got = inbox(sub);
    const granted = await sub.subscribeAsync(['sensors/+/temp', 'alerts/#'], { qos: 2 });
    assert.deepEqual(granted.map((g) => g.qos), [2, 2]);
    await pub.publishAsync('sensors/kitchen/temp', '21.5', { qos: 0 });
    await pub.publishAsync('sensors/hall/temp', '19', { qos: 1 });
    await pub.publishAsync('alerts/fire/floor/2', 'run', { qos: 2 });
    await pub.publishAsync('sensors/hall/humidity', 'ignored', { qos: 1 });
    await waitFor(() => got.length >= 3, 'three messages');
    await sleep(50);
    assert.deepEqual(got.map((m) => [m.topic, m.payload, m.packet.qos]).sort(), [
      ['alerts/fire/floor/2', 'run', 2],
      ['sensors/hall/temp', '19', 1],
      ['sensors/kitchen/temp', '21.5', 0],
    ]);
    await endMqtt(sub);
    await endMqtt(pub);
  });
}

test('retained messages: delivered on subscribe with RETAIN set, replaced, cleared by an empty retained publish', async () => {
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await pub.publishAsync('home/door', 'open', { qos: 1, retain: true });
  await pub.publishAsync('home/door', 'closed', { qos: 1, retain: true });
  await pub.publishAsync('home/window', 'shut', { qos: 0, retain: true });
  await sleep(20);
  const sub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(sub);
  await sub.subscribeAsync('home/+', { qos: 1 });
  await waitFor(() => got.length >= 2, 'two retained messages');
  assert.deepEqual(got.map((m) => [m.topic, m.payload, m.packet.retain]).sort(), [['home/door', 'closed', true], ['home/window', 'shut', true]]);
  // A live publish of a retained message reaches existing subscribers without RETAIN (3.3.1.3).
  await pub.publishAsync('home/door', 'ajar', { qos: 1, retain: true });
  await waitFor(() => got.length >= 3, 'live message');
  assert.equal(got[2]!.packet.retain, false);
  await pub.publishAsync('home/door', '', { qos: 1, retain: true });
  const late = await connectMqtt(broker.mqttUrl, { protocolVersion: 4 });
  const lateGot = inbox(late);
  await late.subscribeAsync('home/#', { qos: 1 });
  await waitFor(() => lateGot.length >= 1, 'retained window');
  await sleep(100);
  assert.deepEqual(lateGot.map((m) => m.topic), ['home/window']);
  await Promise.all([endMqtt(pub), endMqtt(sub), endMqtt(late)]);
});

test('3.1.1 persistent session: subscriptions and QoS 1 messages wait for the client to return', async () => {
  const options = { protocolVersion: 4 as const, clientId: 'persistent-311', clean: false };
  const first = await connectMqtt(broker.mqttUrl, options);
  await first.subscribeAsync('jobs/#', { qos: 1 });
  await endMqtt(first);
  const pub = await connectMqtt(broker.mqttUrl);
  for (let i = 0; i < 5; i++) await pub.publishAsync(`jobs/${i}`, `job ${i}`, { qos: 1 });
  await pub.publishAsync('jobs/q0', 'qos0 offline', { qos: 0 });
  const got: Received[] = [];
  const back = await connectMqtt(broker.mqttUrl, options, got);
  assert.equal(sessionPresent(back), true);
  await waitFor(() => got.length >= 6, 'offline messages');
  assert.deepEqual(got.filter((m) => m.packet.qos === 1).map((m) => m.payload), ['job 0', 'job 1', 'job 2', 'job 3', 'job 4']);
  await endMqtt(back);
  await endMqtt(pub);
  // A clean session discards it.
  const clean = await connectMqtt(broker.mqttUrl, { protocolVersion: 4, clientId: 'persistent-311', clean: true });
  await endMqtt(clean);
  assert.equal(broker.broker.getVhost('/')!.getQueue('mqtt-subscription-persistent-311'), undefined);
});

test('5.0: user properties, content type, response topic and correlation data (request/response)', async () => {
  const responder = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const requester = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await requester.subscribeAsync('replies/me', { qos: 1 });
  responder.on('message', (_topic, payload, packet) => {
    const p = packet.properties ?? {};
    void responder.publishAsync(p.responseTopic!, `echo ${payload.toString()}`, { qos: 1, properties: { correlationData: p.correlationData!, contentType: p.contentType!, userProperties: p.userProperties! } });
  });
  await responder.subscribeAsync('service/echo', { qos: 1 });
  const replies = inbox(requester);
  await requester.publishAsync('service/echo', 'ping', { qos: 1, properties: { responseTopic: 'replies/me', correlationData: Buffer.from([0xff, 0x00, 0x01]), contentType: 'text/plain', userProperties: { trace: 'abc' } } });
  await waitFor(() => replies.length >= 1, 'reply');
  const reply = replies[0]!;
  assert.equal(reply.payload, 'echo ping');
  assert.deepEqual(reply.packet.properties?.correlationData, Buffer.from([0xff, 0x00, 0x01]));
  assert.equal(reply.packet.properties?.contentType, 'text/plain');
  assert.deepEqual({ ...reply.packet.properties?.userProperties }, { trace: 'abc' });
  await Promise.all([endMqtt(responder), endMqtt(requester)]);
});

test('5.0 subscription options: no local, retain as published, retain handling 2; subscription identifiers', async () => {
  const client = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(client);
  await client.publishAsync('opts/retained', 'kept', { qos: 1, retain: true });
  await client.subscribeAsync('opts/#', { qos: 1, nl: true, rap: true, rh: 2, properties: { subscriptionIdentifier: 7 } });
  await client.publishAsync('opts/own', 'mine', { qos: 1 });
  const other = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await other.publishAsync('opts/theirs', 'theirs', { qos: 1, retain: true });
  await waitFor(() => got.length >= 1, 'message from the other client');
  await sleep(100);
  assert.deepEqual(got.map((m) => [m.topic, m.packet.retain, m.packet.properties?.subscriptionIdentifier]), [['opts/theirs', true, 7]]);
  await other.publishAsync('opts/theirs', '', { qos: 1, retain: true });
  await client.publishAsync('opts/retained', '', { qos: 1, retain: true });
  await Promise.all([endMqtt(client), endMqtt(other)]);
});

test('5.0 message expiry: an expired message is not delivered; the remaining interval is sent', async () => {
  const options = { protocolVersion: 5 as const, clientId: 'expiry-5', clean: false, properties: { sessionExpiryInterval: 60 } };
  const sub = await connectMqtt(broker.mqttUrl, options);
  await sub.subscribeAsync('exp/#', { qos: 1 });
  await endMqtt(sub);
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await pub.publishAsync('exp/short', 'short', { qos: 1, properties: { messageExpiryInterval: 1 } });
  await pub.publishAsync('exp/long', 'long', { qos: 1, properties: { messageExpiryInterval: 100 } });
  await sleep(1200);
  const got: Received[] = [];
  const back = await connectMqtt(broker.mqttUrl, options, got);
  await waitFor(() => got.length >= 1, 'long-lived message');
  await sleep(100);
  assert.deepEqual(got.map((m) => m.payload), ['long']);
  const left = got[0]!.packet.properties?.messageExpiryInterval ?? 0;
  assert.ok(left >= 97 && left <= 100, `remaining expiry ${left}`);
  await Promise.all([endMqtt(back), endMqtt(pub)]);
  const cleanup = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, clientId: 'expiry-5', clean: true });
  await endMqtt(cleanup);
});

test('5.0 topic aliases from the client are resolved', async () => {
  const sub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(sub);
  await sub.subscribeAsync('alias/topic', { qos: 1 });
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, properties: { topicAliasMaximum: 10 } });
  await pub.publishAsync('alias/topic', 'one', { qos: 1, properties: { topicAlias: 3 } });
  await pub.publishAsync('', 'two', { qos: 1, properties: { topicAlias: 3 } });
  await waitFor(() => got.length >= 2, 'two messages');
  assert.deepEqual(got.map((m) => [m.topic, m.payload]), [['alias/topic', 'one'], ['alias/topic', 'two']]);
  await Promise.all([endMqtt(sub), endMqtt(pub)]);
});

test('shared subscriptions: $share/group/filter splits messages between the members', async () => {
  const a = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const b = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const plain = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const [gotA, gotB, gotPlain] = [inbox(a), inbox(b), inbox(plain)];
  await a.subscribeAsync('$share/workers/tasks/+', { qos: 1 });
  await b.subscribeAsync('$share/workers/tasks/+', { qos: 1 });
  await plain.subscribeAsync('tasks/+', { qos: 1 });
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  for (let i = 0; i < 10; i++) await pub.publishAsync(`tasks/${i}`, String(i), { qos: 1 });
  await waitFor(() => gotA.length + gotB.length >= 10 && gotPlain.length >= 10, 'all tasks');
  await sleep(50);
  assert.equal(gotA.length + gotB.length, 10);
  assert.ok(gotA.length > 0 && gotB.length > 0, `split ${gotA.length}/${gotB.length}`);
  assert.equal(gotA[0]!.topic.startsWith('tasks/'), true);
  await Promise.all([endMqtt(a), endMqtt(b), endMqtt(plain), endMqtt(pub)]);
});

test('Last Will: published when a client vanishes, not after a normal DISCONNECT; 5.0 will delay', async () => {
  const watcher = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(watcher);
  await watcher.subscribeAsync('wills/#', { qos: 1 });
  const polite = await connectMqtt(broker.mqttUrl, { protocolVersion: 4, will: { topic: 'wills/polite', payload: Buffer.from('x'), qos: 1, retain: false } });
  await endMqtt(polite);
  const rude = await connectMqtt(broker.mqttUrl, { protocolVersion: 4, will: { topic: 'wills/rude', payload: Buffer.from('gone'), qos: 1, retain: false } });
  rude.stream.destroy();
  await waitFor(() => got.length >= 1, 'the will');
  assert.deepEqual(got.map((m) => [m.topic, m.payload]), [['wills/rude', 'gone']]);
  const delayed = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, clientId: 'delayed-will', properties: { sessionExpiryInterval: 30 }, will: { topic: 'wills/delayed', payload: Buffer.from('late'), qos: 1, retain: false, properties: { willDelayInterval: 1 } } });
  const destroyedAt = Date.now();
  delayed.stream.destroy();
  await waitFor(() => got.length >= 2, 'the delayed will');
  assert.ok(Date.now() - destroyedAt >= 900, 'waited for the will delay');
  await endMqtt(watcher);
  const cleanup = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, clientId: 'delayed-will', clean: true });
  await endMqtt(cleanup);
});

test('credentials: bad password, vhost:user, unknown vhost, and a second connection taking the session over', async () => {
  broker.users.addUser('dev', 'secret');
  broker.broker.addVhost('iot');
  broker.users.setPermissions('dev', 'iot', { configure: '.*', write: '.*', read: '.*' });
  await assert.rejects(connectMqtt(broker.mqttUrl, { protocolVersion: 4, username: 'guest', password: 'wrong' }), /Bad username or password/i);
  await assert.rejects(connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'dev', password: 'secret' }), /Not authorized/i);
  const watcher = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'iot:dev', password: 'secret' });
  const wills = inbox(watcher);
  await watcher.subscribeAsync('takeover/#', { qos: 1 });
  const ok = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'iot:dev', password: 'secret', clientId: 'taken', will: { topic: 'takeover/will', payload: Buffer.from('replaced'), qos: 1, retain: false } });
  let reason: number | undefined;
  ok.on('disconnect', (packet) => (reason = packet.reasonCode));
  const second = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'iot:dev', password: 'secret', clientId: 'taken' });
  await waitFor(() => reason !== undefined, 'takeover disconnect');
  assert.equal(reason, 0x8e);
  await waitFor(() => wills.length >= 1, 'the will of the replaced connection');
  assert.equal(wills[0]!.payload, 'replaced');
  ok.end(true);
  await Promise.all([endMqtt(second), endMqtt(watcher)]);
});

test('permissions: publish needs write on amq.topic, subscribe needs read (5.0 reason codes)', async () => {
  broker.users.addUser('reader', 'r');
  broker.users.setPermissions('reader', '/', { configure: '.*', write: '^mqtt-', read: '.*' });
  const client = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'reader', password: 'r' });
  await assert.rejects(client.publishAsync('t/x', 'no', { qos: 1 }), /Not authorized|135/);
  broker.users.addUser('writer', 'w');
  broker.users.setPermissions('writer', '/', { configure: '.*', write: '.*', read: '^mqtt-' });
  const writer = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'writer', password: 'w' });
  // MQTT.js rejects a SUBACK whose reason code is a failure; the code is 0x87 Not authorized.
  await assert.rejects(writer.subscribeAsync('t/#', { qos: 1 }), /Not authorized/);
  await Promise.all([endMqtt(client), endMqtt(writer)]);
});

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5.0'} UNSUBSCRIBE: the filter stops matching, the others stay; UNSUBACK${protocolVersion === 5 ? ' with 0x11 for a filter never subscribed' : ''}`, async () => {
    const sub = await connectMqtt(broker.mqttUrl, { protocolVersion, clientId: `unsub-${protocolVersion}` });
    const got = inbox(sub);
    await sub.subscribeAsync(['unsub/a/+', 'unsub/b/#'], { qos: 1 });
    const pub = await connectMqtt(broker.mqttUrl, { protocolVersion });
    await pub.publishAsync('unsub/a/1', 'a before', { qos: 1 });
    await waitFor(() => got.length >= 1, 'the first message');
    const unsuback = await sub.unsubscribeAsync(['unsub/a/+', 'unsub/never']);
    if (protocolVersion === 5) assert.deepEqual(unsuback?.cmd === 'unsuback' ? unsuback.granted : undefined, [0x00, 0x11]);
    await pub.publishAsync('unsub/a/2', 'a after', { qos: 1 });
    await pub.publishAsync('unsub/b/2', 'b after', { qos: 1 });
    await waitFor(() => got.length >= 2, 'the message of the filter that stayed');
    await sleep(100);
    assert.deepEqual(got.map((m) => m.payload), ['a before', 'b after']);
    assert.deepEqual([...broker.mqtt.sessions.all()].find((s) => s.subscriptions.has('unsub/b/#'))?.subscriptions.has('unsub/a/+'), false);
    await Promise.all([endMqtt(sub), endMqtt(pub)]);
  });
}
