/**
 * The MQTT door inside a real WarrenServer (LogStore in a temp dir): enabled by config with port 0,
 * shown in /api/connections, reachable over WebSocket at /mqtt, mapped onto AMQP both ways (amqplib),
 * and persistent sessions and retained messages across a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqplib from 'amqplib';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttListener } from '../../../src/mqtt/server.js';
import { startServer, tempDataDir, type RunningServer } from '../durability/helpers.js';
import { sleep, waitFor } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox, sessionPresent, type Received } from './helpers.js';

function mqttPort(running: RunningServer): number {
  const listener = running.server.doorListeners.find((l) => l.protocol === 'mqtt') as MqttListener | undefined;
  assert.ok(listener?.address !== undefined, 'MQTT listener started');
  return listener.address.port;
}

async function api<T>(httpPort: number, path: string): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
  assert.equal(response.status, 200);
  return (await response.json()) as T;
}

/** A policy on every MQTT session queue (`mqtt-subscription-*`), set through the management API. */
async function sessionQueuePolicy(httpPort: number, name: string, definition: Record<string, unknown>): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${httpPort}/api/policies/%2F/${name}`, {
    method: 'PUT',
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ pattern: '^mqtt-subscription-', definition, 'apply-to': 'queues' }),
  });
  assert.ok(response.status === 201 || response.status === 204, `policy status ${response.status}`);
}

test('WarrenServer: MQTT on port 0, /api/connections, WebSocket at /mqtt, AMQP <-> MQTT', async () => {
  const data = await tempDataDir();
  const running = await startServer(data.dir, { 'mqtt-port': '0' });
  try {
    const port = mqttPort(running);
    const http = (await running.server.start()).http.port;
    const tcp = await connectMqtt(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, clientId: 'dashboard-visible' });
    const ws = await connectMqtt(`ws://127.0.0.1:${http}/mqtt`, { protocolVersion: 4, clientId: 'over-websocket' });
    const connections = await api<{ protocol: string; client_properties: Record<string, unknown>; user: string }[]>(http, '/api/connections');
    const mqttRows = connections.filter((c) => c.protocol.startsWith('MQTT'));
    assert.deepEqual(mqttRows.map((c) => c.protocol).sort(), ['MQTT 3.1.1', 'MQTT 5.0']);
    assert.ok(mqttRows.every((c) => c.user === 'guest'));

    // AMQP publisher -> MQTT subscribers (TCP and WebSocket).
    const wsGot = inbox(ws);
    const tcpGot = inbox(tcp);
    await ws.subscribeAsync('metrics/+/cpu', { qos: 1 });
    await tcp.subscribeAsync('metrics/#', { qos: 0 });
    const amqp = await amqplib.connect(running.url);
    const channel = await amqp.createConfirmChannel();
    channel.publish('amq.topic', 'metrics.host1.cpu', Buffer.from('93'), { persistent: true, contentType: 'text/plain', headers: { origin: 'amqp' } });
    await channel.waitForConfirms();
    await waitFor(() => wsGot.length >= 1 && tcpGot.length >= 1, 'AMQP message over MQTT');
    assert.deepEqual([wsGot[0]!.topic, wsGot[0]!.payload, wsGot[0]!.packet.qos], ['metrics/host1/cpu', '93', 1]);
    assert.equal(tcpGot[0]!.packet.properties?.contentType, 'text/plain');
    assert.deepEqual({ ...tcpGot[0]!.packet.properties?.userProperties }, { origin: 'amqp' });

    // MQTT publisher -> an AMQP queue bound to amq.topic.
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'amq.topic', 'devices.*.status');
    await tcp.publishAsync('devices/d7/status', 'online', { qos: 1, properties: { userProperties: { fw: '1.2' } } });
    const message = await new Promise<amqplib.GetMessage>((resolve, reject) => {
      const poll = async (): Promise<void> => {
        const m = await channel.get(queue, { noAck: true });
        if (m === false) return void setTimeout(() => void poll().catch(reject), 10);
        resolve(m);
      };
      void poll().catch(reject);
    });
    assert.equal(message.fields.routingKey, 'devices.d7.status');
    assert.equal(message.content.toString(), 'online');
    assert.equal(message.properties.deliveryMode, 2);
    assert.equal(message.properties.headers?.['fw'], '1.2');
    await amqp.close();
    await Promise.all([endMqtt(tcp), endMqtt(ws)]);
  } finally {
    await running.server.stop();
    await data.cleanup();
  }
});

test('a persistent session (subscriptions, QoS 1 messages) and retained messages survive a broker restart', async () => {
  const data = await tempDataDir();
  let running = await startServer(data.dir, { 'mqtt-port': '0' });
  try {
    const options = { protocolVersion: 5 as const, clientId: 'durable-dev', clean: false, properties: { sessionExpiryInterval: 3600 } };
    const first = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, options);
    await first.subscribeAsync('cmd/durable-dev/#', { qos: 1 });
    await endMqtt(first);
    const pub = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, { protocolVersion: 4 });
    await pub.publishAsync('cmd/durable-dev/reboot', 'now', { qos: 1 });
    await pub.publishAsync('cmd/durable-dev/update', 'v2', { qos: 1 });
    await pub.publishAsync('state/lamp', 'on', { qos: 1, retain: true });
    await endMqtt(pub);
    await running.server.stop();

    running = await startServer(data.dir, { 'mqtt-port': '0' });
    const got: Received[] = [];
    const back = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, options, got);
    assert.equal(sessionPresent(back), true);
    await waitFor(() => got.length >= 2, 'messages kept across the restart');
    assert.deepEqual(got.map((m) => [m.topic, m.payload]), [['cmd/durable-dev/reboot', 'now'], ['cmd/durable-dev/update', 'v2']]);
    const late = await connectMqtt(`mqtt://127.0.0.1:${mqttPort(running)}`, { protocolVersion: 4 });
    const retained = inbox(late);
    await late.subscribeAsync('state/#', { qos: 1 });
    await waitFor(() => retained.length >= 1, 'retained message after the restart');
    assert.deepEqual([retained[0]!.topic, retained[0]!.payload, retained[0]!.packet.retain], ['state/lamp', 'on', true]);
    await sleep(20);
    await Promise.all([endMqtt(back), endMqtt(late)]);
  } finally {
    await running.server.stop();
    await data.cleanup();
  }
});

test('MQTT over TLS: mqtts on its own port with the configured certificate', { skip: existsSync('/usr/bin/openssl') ? false : 'openssl is not installed' }, async () => {
  const data = await tempDataDir();
  const certDir = await mkdtemp(join(tmpdir(), 'warren-mqtt-tls-'));
  const keyPath = join(certDir, 'key.pem');
  const certPath = join(certDir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-keyout', keyPath, '-out', certPath, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const running = await startServer(data.dir, { 'mqtt-port': '0', 'mqtt-tls-port': '0', 'mqtt-tls-cert': certPath, 'mqtt-tls-key': keyPath });
  try {
    const tlsListener = running.server.doorListeners.find((l) => l.protocol === 'mqtt/ssl') as MqttListener | undefined;
    assert.ok(tlsListener?.address !== undefined, 'MQTT TLS listener started');
    const client = await connectMqtt(`mqtts://localhost:${tlsListener.address.port}`, { protocolVersion: 5, ca: readFileSync(certPath) });
    const got = inbox(client);
    await client.subscribeAsync('secure/#', { qos: 1 });
    await client.publishAsync('secure/hello', 'over tls', { qos: 1 });
    await waitFor(() => got.length >= 1, 'message over TLS');
    assert.equal(got[0]!.payload, 'over tls');
    await endMqtt(client);
  } finally {
    await running.server.stop();
    await data.cleanup();
    await rm(certDir, { recursive: true, force: true });
  }
});

test('queue features apply to MQTT sessions: a max-length policy on mqtt-subscription-* keeps the newest', async () => {
  const data = await tempDataDir();
  const running = await startServer(data.dir, { 'mqtt-port': '0' });
  try {
    const http = (await running.server.start()).http.port;
    await sessionQueuePolicy(http, 'mqtt-cap', { 'max-length': 2 });
    const url = `mqtt://127.0.0.1:${mqttPort(running)}`;
    const options = { protocolVersion: 4 as const, clientId: 'capped', clean: false };
    const first = await connectMqtt(url, options);
    await first.subscribeAsync('capped/#', { qos: 1 });
    await endMqtt(first);
    const pub = await connectMqtt(url);
    for (let i = 1; i <= 5; i++) await pub.publishAsync(`capped/${i}`, String(i), { qos: 1 });
    const got: Received[] = [];
    const back = await connectMqtt(url, options, got);
    await waitFor(() => got.length >= 2, 'the newest two');
    await sleep(100);
    assert.deepEqual(got.map((m) => m.payload), ['4', '5']);
    await Promise.all([endMqtt(back), endMqtt(pub)]);
  } finally {
    await running.server.stop();
    await data.cleanup();
  }
});

test('queue features apply to MQTT sessions: a message TTL and a dead-letter exchange by policy send expired messages to AMQP', async () => {
  const data = await tempDataDir();
  const running = await startServer(data.dir, { 'mqtt-port': '0' });
  try {
    const http = (await running.server.start()).http.port;
    await sessionQueuePolicy(http, 'mqtt-ttl', { 'message-ttl': 100, 'dead-letter-exchange': 'mqtt-dead' });
    const amqp = await amqplib.connect(running.url);
    const channel = await amqp.createChannel();
    await channel.assertExchange('mqtt-dead', 'fanout', { durable: false });
    const { queue: dead } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(dead, 'mqtt-dead', '');
    const url = `mqtt://127.0.0.1:${mqttPort(running)}`;
    const options = { protocolVersion: 4 as const, clientId: 'away-too-long', clean: false };
    const first = await connectMqtt(url, options);
    await first.subscribeAsync('ttl/#', { qos: 1 });
    await endMqtt(first);
    const pub = await connectMqtt(url);
    await pub.publishAsync('ttl/reading', 'stale soon', { qos: 1 });
    let deadLettered: amqplib.GetMessage | false = false;
    await waitFor(async () => (deadLettered = await channel.get(dead, { noAck: true })) !== false, 'the expired message dead-lettered', 5000);
    const message = deadLettered as unknown as amqplib.GetMessage;
    assert.equal(message.content.toString(), 'stale soon');
    assert.equal(message.fields.routingKey, 'ttl.reading');
    assert.equal((message.properties.headers?.['x-death'] as Array<{ reason: string; queue: string }>)[0]?.reason, 'expired');
    const got: Received[] = [];
    const back = await connectMqtt(url, options, got);
    await sleep(200);
    assert.deepEqual(got, [], 'nothing left for the session');
    await amqp.close();
    await Promise.all([endMqtt(back), endMqtt(pub)]);
  } finally {
    await running.server.stop();
    await data.cleanup();
  }
});
