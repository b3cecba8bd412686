/**
 * The MQTT and STOMP doors on the nodes of a three-node Warren cluster (real processes on a real
 * PostgreSQL): MQTT.js and @stomp/stompjs clients on different nodes reach each other through
 * amq.topic, whichever node holds the subscription queue: MQTT -> MQTT, MQTT -> STOMP, STOMP -> MQTT,
 * and a persistent MQTT session's QoS 1 messages kept on its node while the client is away.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@stomp/stompjs';
import type { MqttClient } from 'mqtt';
import { startLinkedCluster, type TestCluster, type TestClusterNode } from '../../helpers/cluster.js';
import { postgresForFile } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox, type Received } from '../mqtt/helpers.js';
import { Inbox, stompjsClient } from '../stomp/helpers.js';

const pg = postgresForFile();
let cluster: TestCluster;
let n1: TestClusterNode;
let n2: TestClusterNode;
let n3: TestClusterNode;
const mqttClients: MqttClient[] = [];
const stompClients: Client[] = [];

before(async () => {
  if (pg.skip) return;
  cluster = await startLinkedCluster(pg, 3, { extraConfig: 'mqtt:\n  host: 127.0.0.1\n  port: 0\nstomp:\n  host: 127.0.0.1\n  port: 0\n' });
  [n1, n2, n3] = cluster.nodes as [TestClusterNode, TestClusterNode, TestClusterNode];
  for (const node of cluster.nodes) {
    await node.cli.waitForOutput(/MQTT listening on/, 30_000);
    await node.cli.waitForOutput(/STOMP listening on/, 30_000);
  }
});

after(async () => {
  await Promise.all(mqttClients.map((c) => c.endAsync(true)));
  await Promise.all(stompClients.map((c) => c.deactivate()));
  await cluster?.cleanup();
});

async function mqttOn(node: TestClusterNode, options: Parameters<typeof connectMqtt>[1] = {}, received?: Received[]): Promise<MqttClient> {
  const client = await connectMqtt(`mqtt://127.0.0.1:${node.doorPort('MQTT')}`, { protocolVersion: 5, ...options }, received);
  mqttClients.push(client);
  return client;
}

async function stompOn(node: TestClusterNode): Promise<Client> {
  const client = await stompjsClient(`ws://127.0.0.1:${node.httpPort}/ws`);
  stompClients.push(client);
  return client;
}

/** Every node lists each queue with the same owner. */
async function ownersAgreed(queues: readonly string[]): Promise<void> {
  for (const queue of queues) {
    await waitFor(async () => {
      const owners = await Promise.all([n1, n2, n3].map((node) => node.ownerOf(queue).catch(() => undefined)));
      return owners[0] !== undefined && owners.every((owner) => owner === owners[0]);
    }, `every node agrees on the owner of ${queue}`);
  }
}

test('MQTT on n1 -> MQTT on n2 and STOMP on n3; STOMP on n3 -> MQTT on n2', { skip: pg.skip }, async () => {
  const sub = await mqttOn(n2, { clientId: 'cluster-sub' });
  const mqttGot = inbox(sub);
  await sub.subscribeAsync('plant/+/temp', { qos: 1 });
  const stomp = await stompOn(n3);
  const stompGot = new Inbox();
  // A plain /topic/ subscription's queue is exclusive, so node-local (README "Cluster"); a durable
  // topic subscription (RabbitMQ's durable:true + id) is seen by every node.
  stomp.subscribe('/topic/plant.*.temp', stompGot.push, { durable: 'true', 'auto-delete': 'false', id: 'plant-temps', 'x-queue-name': 'plant-temps' });
  // The subscriptions' queues live on n2 and n3; bindings reach every node through the cluster.
  // Bindings reach the other nodes within a definitions poll (250 ms).
  // Every node must know both, and agree on their owners, before anything is published: each node
  // routes with its own copy and forwards to the owner it knows (a fire-and-forget STOMP SEND that
  // reaches a node not yet knowing it owns the queue is dropped, as an unroutable message would be).
  await ownersAgreed(['mqtt-subscription-cluster-sub', 'plant-temps']);
  for (const node of [n1, n2, n3]) {
    await waitFor(async () => (await node.api<{ destination: string }[]>('GET', '/api/bindings/%2F')).filter((b) => b.destination === 'mqtt-subscription-cluster-sub' || b.destination === 'plant-temps').length >= 2, `both bindings seen on ${node.name}`);
  }

  const pub = await mqttOn(n1);
  await pub.publishAsync('plant/boiler/temp', '81.5', { qos: 1 });
  await waitFor(() => mqttGot.length >= 1, 'MQTT n1 -> MQTT n2');
  assert.deepEqual([mqttGot[0]!.topic, mqttGot[0]!.payload], ['plant/boiler/temp', '81.5']);
  const viaStomp = await stompGot.next(10_000);
  assert.equal(viaStomp.body, '81.5');
  assert.equal(viaStomp.headers['destination'], '/topic/plant.boiler.temp');

  stomp.publish({ destination: '/topic/plant.pump.temp', body: '40.1' });
  await waitFor(() => mqttGot.length >= 2, 'STOMP n3 -> MQTT n2');
  assert.deepEqual([mqttGot[1]!.topic, mqttGot[1]!.payload], ['plant/pump/temp', '40.1']);
  await endMqtt(pub);
});

test('a persistent MQTT session on n2 keeps QoS 1 messages published on n1 and n3 (STOMP) while away', { skip: pg.skip }, async () => {
  const options = { clientId: 'cluster-durable', clean: false, properties: { sessionExpiryInterval: 600 } };
  const first = await mqttOn(n2, options);
  await first.subscribeAsync('alerts/#', { qos: 1 });
  await endMqtt(first);
  for (const node of [n1, n2, n3]) {
    await waitFor(async () => (await node.api<unknown[]>('GET', '/api/bindings/%2F/e/amq.topic/q/mqtt-subscription-cluster-durable')).length > 0, `the binding seen on ${node.name}`);
  }
  await ownersAgreed(['mqtt-subscription-cluster-durable']);

  const pub = await mqttOn(n1);
  await pub.publishAsync('alerts/fire', 'evacuate', { qos: 1 });
  const stomp = await stompOn(n3);
  stomp.publish({ destination: '/topic/alerts.water', body: 'leak', headers: { persistent: 'true' } });
  await waitFor(async () => (await n2.api<{ messages: number }>('GET', '/api/queues/%2F/mqtt-subscription-cluster-durable')).messages >= 2, 'both kept in the session queue');

  const got: Received[] = [];
  await mqttOn(n2, options, got);
  await waitFor(() => got.length >= 2, 'kept messages delivered on return');
  assert.deepEqual(got.map((m) => [m.topic, m.payload]).sort(), [['alerts/fire', 'evacuate'], ['alerts/water', 'leak']]);
  await endMqtt(pub);
});
