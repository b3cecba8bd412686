/**
 * MQTT.js 5.0 against the door's limits and failures: receive maximum (flow control, 3.3.4), session
 * expiry actually ending a session (3.1.2.11.2), reason strings on refusals (seen in the packets MQTT.js
 * received), the anonymous guest refused from a non-loopback address, and assigned client ids (3.1.3.1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient, Packet } from 'mqtt';
import { nonLoopbackAddress } from '../../helpers/non-loopback.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox, sessionPresent, startMqttBroker, type MqttTestBroker } from './helpers.js';
import { RawClient } from './raw-client.js';

let broker: MqttTestBroker;
const remote = nonLoopbackAddress();

before(async () => {
  // Every address, so the non-loopback test can reach it.
  broker = await startMqttBroker({ mqtt: { host: '0.0.0.0' } });
});
after(async () => {
  await broker.close();
});

/** The packets a client receives, from the CONNACK on. */
function packetsOf(client: MqttClient): Packet[] {
  const packets: Packet[] = [];
  client.on('packetreceive', (packet) => packets.push(packet));
  return packets;
}

function connectionOf(clientId: string) {
  const connection = [...broker.mqtt.connections()].find((c) => c.info().clientProperties['client_id'] === clientId);
  assert.ok(connection !== undefined, `connection ${clientId}`);
  return connection;
}

test('receive maximum: no more unacknowledged QoS 1 deliveries than the client allows; the rest wait in its queue', async () => {
  const sub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, clientId: 'rm-sub', properties: { receiveMaximum: 3 } });
  // MQTT.js sends each PUBACK only when handleMessage calls back: hold them all.
  const held: Array<() => void> = [];
  sub.handleMessage = (_packet, callback) => void held.push(() => callback());
  await sub.subscribeAsync('rm/#', { qos: 1 });
  const pub = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  for (let i = 0; i < 10; i++) await pub.publishAsync(`rm/${i}`, String(i), { qos: 1 });
  const queue = broker.broker.getVhost('/')!.getQueue('mqtt-subscription-rm-sub')!;
  await waitFor(() => queue.unackedCount() === 3, 'three in flight');
  await sleep(100);
  assert.deepEqual([connectionOf('rm-sub').channels()[0]!.unacknowledged, queue.unackedCount(), queue.readyCount()], [3, 3, 7]);
  const got = inbox(sub);
  // Each PUBACK lets one more through, until all ten have come.
  await waitFor(() => {
    held.shift()?.();
    return got.length + held.length >= 9 && queue.readyCount() === 0;
  }, 'the rest delivered as acks free the window');
  while (held.length > 0) held.shift()!();
  await waitFor(() => queue.unackedCount() === 0, 'all settled');
  await Promise.all([endMqtt(sub), endMqtt(pub)]);
});

test('session expiry: a session whose expiry interval ran out is gone, its queue deleted', async () => {
  const options = { protocolVersion: 5 as const, clientId: 'expires-soon', clean: false, properties: { sessionExpiryInterval: 1 } };
  const first = await connectMqtt(broker.mqttUrl, options);
  await first.subscribeAsync('soon/#', { qos: 1 });
  await endMqtt(first);
  const vhost = broker.broker.getVhost('/')!;
  assert.notEqual(vhost.getQueue('mqtt-subscription-expires-soon'), undefined, 'kept while the interval runs');
  const back = await connectMqtt(broker.mqttUrl, options);
  assert.equal(sessionPresent(back), true, 'present within the interval');
  await endMqtt(back);
  await waitFor(() => vhost.getQueue('mqtt-subscription-expires-soon') === undefined, 'the queue deleted after 1 s', 3000);
  const late = await connectMqtt(broker.mqttUrl, options);
  assert.equal(sessionPresent(late), false, 'a new session after the expiry');
  late.end(true);
});

test('reason strings: CONNACK, PUBACK and SUBACK refusals and a takeover DISCONNECT say why', async () => {
  broker.users.addUser('limited', 'pw');
  broker.users.setPermissions('limited', '/', { configure: '.*', write: '^mqtt-', read: '^mqtt-' });
  const refusedConnect = (await import('mqtt')).default.connect(broker.mqttUrl, { protocolVersion: 5, username: 'limited', password: 'wrong', reconnectPeriod: 0 });
  const connectPackets = packetsOf(refusedConnect);
  await new Promise<void>((resolve) => refusedConnect.once('error', () => resolve()));
  refusedConnect.end(true);
  const connack = connectPackets.find((p) => p.cmd === 'connack');
  assert.deepEqual([connack?.cmd === 'connack' ? connack.reasonCode : undefined, typeof connack?.properties?.reasonString], [0x86, 'string']);

  const client = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'limited', password: 'pw', clientId: 'limited-1' });
  const packets = packetsOf(client);
  await assert.rejects(client.publishAsync('no/write', 'x', { qos: 1 }));
  await assert.rejects(client.subscribeAsync('no/read', { qos: 1 }));
  const puback = packets.find((p) => p.cmd === 'puback');
  const suback = packets.find((p) => p.cmd === 'suback');
  assert.equal(puback?.cmd === 'puback' ? puback.reasonCode : undefined, 0x87);
  assert.match(String(puback?.properties?.reasonString), /write|access|refused|permission/i);
  assert.deepEqual(suback?.cmd === 'suback' ? suback.granted : undefined, [0x87]);
  assert.match(String(suback?.properties?.reasonString), /read|access|refused|permission/i);

  const replacement = await connectMqtt(broker.mqttUrl, { protocolVersion: 5, username: 'limited', password: 'pw', clientId: 'limited-1' });
  await waitFor(() => packets.some((p) => p.cmd === 'disconnect'), 'DISCONNECT to the replaced connection');
  const disconnect = packets.find((p) => p.cmd === 'disconnect');
  assert.equal(disconnect?.cmd === 'disconnect' ? disconnect.reasonCode : undefined, 0x8e);
  assert.match(String(disconnect?.properties?.reasonString), /took over/);
  client.end(true);
  await endMqtt(replacement);
});

test('a client without a user name is guest from loopback and refused from another address', { skip: remote === undefined ? 'this machine has no non-loopback IPv4 address' : false }, async () => {
  const local = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  await endMqtt(local);
  const url = `mqtt://${remote!}:${broker.mqttPort}`;
  await assert.rejects(connectMqtt(url, { protocolVersion: 5 }), /Bad User Name or Password|134/i);
  await assert.rejects(connectMqtt(url, { protocolVersion: 4 }), /Bad username or password/i);
  // A named user is served from there (only the implicit guest is refused).
  broker.users.addUser('field-device', 'pw');
  broker.users.setPermissions('field-device', '/', { configure: '.*', write: '.*', read: '.*' });
  const named = await connectMqtt(url, { protocolVersion: 5, username: 'field-device', password: 'pw' });
  await endMqtt(named);
});

test('client ids: 5.0 with an empty id gets one assigned in CONNACK; 3.1.1 with an empty id needs a clean session', async () => {
  const assigned = (await import('mqtt')).default.connect(broker.mqttUrl, { protocolVersion: 5, clientId: '', clean: true, reconnectPeriod: 0 });
  const connack = await new Promise<Packet>((resolve, reject) => {
    assigned.once('connect', resolve);
    assigned.once('error', reject);
  });
  const id = connack.cmd === 'connack' ? connack.properties?.assignedClientIdentifier : undefined;
  assert.match(String(id), /^warren-/);
  assert.equal(connectionOf(String(id)).info().protocol, 'MQTT 5.0');
  await assigned.endAsync();
  // MQTT.js will not send that CONNECT at all ('Missing clientId for unclean clients'): the codec client does.
  const raw = await RawClient.open(broker.mqttPort, 4);
  const refused = await raw.connect('', { cleanStart: false });
  assert.equal(refused.reasonCode, 0x02, '3.2.2.3: identifier rejected');
  await raw.waitClosed();
});
