/**
 * RabbitMQ's topic permissions in Warren: set through the management API (/api/topic-permissions),
 * exported in definitions, kept across a restart, and enforced with real clients: MQTT.js 5.0 (PUBACK
 * 0x87, SUBACK 0x87), MQTT.js 3.1.1 (the connection closes on a refused PUBLISH, SUBACK 0x80), and
 * amqplib (basic.publish and queue.bind on a topic exchange, 403 ACCESS_REFUSED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqplib from 'amqplib';
import type { MqttListener } from '../../../src/mqtt/server.js';
import { startServer, tempDataDir, type RunningServer } from '../durability/helpers.js';
import { waitFor } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox } from './helpers.js';

const ADMIN = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

async function api(httpPort: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method,
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

function ports(running: RunningServer): { mqtt: number } {
  const listener = running.server.doorListeners.find((l) => l.protocol === 'mqtt') as MqttListener | undefined;
  assert.ok(listener?.address !== undefined);
  return { mqtt: listener.address.port };
}

/** The SUBACK reason code MQTT.js rejected a subscription with. */
function subackCode(code: number): (error: Error & { packet?: { granted?: number[] } }) => boolean {
  return (error) => error.packet?.granted?.[0] === code;
}

const DEVICE_RULE = { exchange: 'amq.topic', write: '^devices\\.{client_id}\\.', read: '^(devices\\.{client_id}\\.|broadcast\\.)' };

test('topic permissions: management API, definitions, restart, and MQTT 5.0 / 3.1.1 and AMQP enforcement', async () => {
  const data = await tempDataDir();
  let running = await startServer(data.dir, { 'mqtt-port': '0' });
  try {
    let http = (await running.server.start()).http.port;
    assert.equal((await api(http, 'PUT', '/api/users/dev', { password: 'secret', tags: '' })).status, 201);
    assert.equal((await api(http, 'PUT', '/api/permissions/%2F/dev', { configure: '.*', write: '.*', read: '.*' })).status, 201);
    assert.equal((await api(http, 'PUT', '/api/topic-permissions/%2F/dev', DEVICE_RULE)).status, 201);
    assert.equal((await api(http, 'PUT', '/api/topic-permissions/%2F/nobody', DEVICE_RULE)).status, 400);
    assert.equal((await api(http, 'PUT', '/api/topic-permissions/%2F/dev', { exchange: 'amq.topic', write: '(' , read: '' })).status, 400);
    const rows = (await api(http, 'GET', '/api/topic-permissions')).json as Record<string, string>[];
    assert.deepEqual(rows, [{ user: 'dev', vhost: '/', ...DEVICE_RULE }]);
    assert.deepEqual((await api(http, 'GET', '/api/topic-permissions/%2F/dev')).json, rows);
    assert.deepEqual((await api(http, 'GET', '/api/users/dev/topic-permissions')).json, rows);
    const exported = (await api(http, 'GET', '/api/definitions')).json as { topic_permissions: unknown[] };
    assert.deepEqual(exported.topic_permissions, rows);

    // The rules survive a restart (definitions journal).
    await running.server.stop();
    running = await startServer(data.dir, { 'mqtt-port': '0' });
    http = (await running.server.start()).http.port;
    assert.deepEqual((await api(http, 'GET', '/api/topic-permissions')).json, rows);
    const url = `mqtt://127.0.0.1:${ports(running).mqtt}`;

    // MQTT 5.0: refusals are reason codes; the connection stays.
    const lamp = await connectMqtt(url, { protocolVersion: 5, clientId: 'lamp1', username: 'dev', password: 'secret' });
    const got = inbox(lamp);
    await lamp.subscribeAsync('broadcast/#', { qos: 1 });
    await assert.rejects(lamp.subscribeAsync('devices/lamp2/#', { qos: 1 }), subackCode(0x87));
    await lamp.publishAsync('devices/lamp1/state', 'on', { qos: 1 });
    await assert.rejects(lamp.publishAsync('devices/lamp2/state', 'on', { qos: 1 }), (error: Error & { code?: number }) => error.code === 0x87);
    // A variable expands to the value itself, not a pattern: client id 'lamp.' may not write 'lampX'.
    const admin = await connectMqtt(url, { protocolVersion: 5 });
    await admin.publishAsync('broadcast/all', 'hello', { qos: 1 });
    await waitFor(() => got.length >= 1, 'broadcast delivered');
    assert.deepEqual(got.map((m) => [m.topic, m.payload]), [['broadcast/all', 'hello']]);
    assert.equal(lamp.connected, true);
    await endMqtt(lamp);

    const dotted = await connectMqtt(url, { protocolVersion: 5, clientId: 'lamp.', username: 'dev', password: 'secret' });
    await assert.rejects(dotted.publishAsync('devices/lampX/state', 'on', { qos: 1 }), (error: Error & { code?: number }) => error.code === 0x87);
    await endMqtt(dotted);

    // MQTT 3.1.1: SUBACK 0x80; a refused PUBLISH closes the connection.
    const old = await connectMqtt(url, { protocolVersion: 4, clientId: 'lamp1', username: 'dev', password: 'secret' });
    await assert.rejects(old.subscribeAsync('devices/lamp2/#', { qos: 0 }), subackCode(0x80));
    const closed = new Promise<void>((resolve) => old.once('close', () => resolve()));
    old.publish('devices/lamp2/state', 'on', { qos: 0 });
    await closed;
    old.end(true);

    // AMQP: basic.publish and queue.bind on a topic exchange are checked too ({client_id} is '' there).
    const conn = await amqplib.connect(`amqp://dev:secret@127.0.0.1:${(await running.server.start()).amqp.port}`);
    const ch = await conn.createChannel();
    ch.on('error', () => undefined); // the refused bind closes it (asserted below)
    const q = await ch.assertQueue('', { exclusive: true });
    await ch.bindQueue(q.queue, 'amq.topic', 'broadcast.#');
    await assert.rejects(ch.bindQueue(q.queue, 'amq.topic', 'devices.lamp2.#'), /ACCESS_REFUSED/);
    const ch2 = await conn.createChannel();
    const refused = new Promise<Error>((resolve) => ch2.once('error', resolve));
    ch2.publish('amq.topic', 'devices.lamp2.state', Buffer.from('x'));
    assert.match((await refused).message, /ACCESS_REFUSED - write access to topic 'devices.lamp2.state' in exchange 'amq.topic' in vhost '\/' refused for user 'dev'/);
    await conn.close();

    // Cleared: everything is allowed again.
    assert.equal((await api(http, 'DELETE', '/api/topic-permissions/%2F/dev')).status, 204);
    assert.equal((await api(http, 'DELETE', '/api/topic-permissions/%2F/dev')).status, 404);
    const free = await connectMqtt(url, { protocolVersion: 5, clientId: 'lamp1', username: 'dev', password: 'secret' });
    await free.publishAsync('devices/lamp2/state', 'on', { qos: 1 });
    await Promise.all([endMqtt(free), endMqtt(admin)]);
  } finally {
    await running.server.stop();
    await data.cleanup();
  }
});
