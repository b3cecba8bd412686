/**
 * QoS 2 state of persistent sessions across a broker restart (MQTT 3.1.1 / 5.0 4.1 and 4.3.3): a real
 * client (MQTT.js) is frozen half-way through the handshake by a proxy that swallows one packet type,
 * the broker (LogStore) restarts on the same data, the client reconnects through the same proxy and
 * the handshake must finish exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import mqtt, { type MqttClient } from 'mqtt';
import type { MqttListener } from '../../../src/mqtt/server.js';
import { startServer, tempDataDir, type RunningServer } from '../durability/helpers.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, type Received } from './helpers.js';
import { filteringProxy } from './filtering-proxy.js';

const PUBREC = 5;
const PUBREL = 6;
const PUBCOMP = 7;

function mqttPort(running: RunningServer): number {
  const listener = running.server.doorListeners.find((l) => l.protocol === 'mqtt') as MqttListener | undefined;
  assert.ok(listener?.address !== undefined, 'MQTT listener started');
  return listener.address.port;
}

function connected(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('connect', () => resolve()));
}

// Swallowing PUBREC: the client sends the PUBLISH again (DUP) after the restart, which must not be
// routed a second time. Swallowing PUBREL (5.0): the client's PUBREL after the restart must find the
// id known (PUBCOMP 0x00, not 0x92 "packet identifier not found").
const cases = [
  { protocolVersion: 4, swallow: 'PUBREC' },
  { protocolVersion: 5, swallow: 'PUBREC' },
  { protocolVersion: 5, swallow: 'PUBREL' },
] as const;

for (const { protocolVersion, swallow } of cases) {
  test(`MQTT ${protocolVersion === 5 ? '5.0' : '3.1.1'}: a QoS 2 publish routed before a restart, its ${swallow} swallowed, completes after it and is routed once`, async () => {
    const data = await tempDataDir();
    let running = await startServer(data.dir, { 'mqtt-port': '0' });
    const proxy = await filteringProxy(mqttPort(running));
    const got: Received[] = [];
    const watcher = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, { protocolVersion: 4, clientId: 'qos2-watcher', clean: false }, got);
    await watcher.subscribeAsync('qos2/in', { qos: 1 });
    await endMqtt(watcher);
    // The publisher reconnects by itself (to the same proxy) once the broker is back.
    const properties = protocolVersion === 5 ? { sessionExpiryInterval: 3600 } : undefined;
    const publisher = mqtt.connect(`mqtt://127.0.0.1:${proxy.port}`, { protocolVersion, clientId: 'qos2-publisher', clean: false, reconnectPeriod: 200, ...(properties === undefined ? {} : { properties }) });
    try {
      await connected(publisher);
      if (swallow === 'PUBREL') proxy.dropUp.add(PUBREL);
      else proxy.dropDown.add(PUBREC);
      const published = publisher.publishAsync('qos2/in', 'exactly once', { qos: 2 });
      await waitFor(() => proxy.dropped() >= 1, `the ${swallow} swallowed`);
      await running.server.stop();
      proxy.dropUp.clear();
      proxy.dropDown.clear();
      running = await startServer(data.dir, { 'mqtt-port': '0' });
      proxy.target = mqttPort(running);
      // MQTT.js sends the PUBLISH (or PUBREL) again after reconnecting; the broker must still know the
      // id (otherwise the PUBLISH is routed again, or in 5.0 PUBCOMP carries 0x92 and publishAsync rejects).
      const outcome = await Promise.race([published.then(() => 'completed'), sleep(15_000).then(() => 'timed out')]);
      assert.equal(outcome, 'completed');
      const back = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, { protocolVersion: 4, clientId: 'qos2-watcher', clean: false }, got);
      await waitFor(() => got.length >= 1, 'the message delivered');
      await sleep(300);
      assert.deepEqual(got.map((m) => m.payload), ['exactly once']);
      await endMqtt(back);
    } finally {
      publisher.end(true);
      await proxy.close();
      await running.server.stop();
      await data.cleanup();
    }
  });
}

test('MQTT 5.0: a QoS 2 delivery the client PUBREC\'d before a restart gets its PUBREL after it (the message is not lost)', async () => {
  const data = await tempDataDir();
  let running = await startServer(data.dir, { 'mqtt-port': '0' });
  const proxy = await filteringProxy(mqttPort(running));
  const got: Received[] = [];
  const subscriber = mqtt.connect(`mqtt://127.0.0.1:${proxy.port}`, { protocolVersion: 5, clientId: 'qos2-device', clean: false, reconnectPeriod: 200, properties: { sessionExpiryInterval: 3600 } });
  subscriber.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), packet }));
  let pubrels = 0;
  subscriber.on('packetreceive', (packet) => {
    if (packet.cmd === 'pubrel') pubrels++;
  });
  try {
    await connected(subscriber);
    await subscriber.subscribeAsync('qos2/out', { qos: 2 });
    // MQTT.js hands a QoS 2 message to the application on PUBREL: swallowing PUBREL holds it there.
    proxy.dropDown.add(PUBREL);
    const pub = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, { protocolVersion: 5 });
    await pub.publishAsync('qos2/out', 'keep me', { qos: 2 });
    await endMqtt(pub);
    await waitFor(() => proxy.dropped() >= 1, 'the PUBREL swallowed (the client PUBREC\'d)');
    assert.equal(got.length, 0);
    await running.server.stop();
    proxy.dropDown.clear();
    running = await startServer(data.dir, { 'mqtt-port': '0' });
    proxy.target = mqttPort(running);
    await waitFor(() => got.length >= 1, 'the message released after the restart', 15_000);
    await sleep(300);
    assert.deepEqual(got.map((m) => m.payload), ['keep me']);
    assert.equal(pubrels, 1);
  } finally {
    subscriber.end(true);
    await proxy.close();
    await running.server.stop();
    await data.cleanup();
  }
});
