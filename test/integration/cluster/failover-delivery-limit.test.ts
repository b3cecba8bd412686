/**
 * Queue features survive a failover: a delivery that died with its owner counts toward the quorum
 * queue's `x-delivery-limit` on the new owner (it comes back `redelivered` with `x-delivery-count` 1, as
 * a RabbitMQ quorum queue counts a return), and the next return dead-letters it, through the cluster, to
 * a dead-letter queue that another node may own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type amqp from 'amqplib';
import { linkedClusterForFile } from '../../helpers/cluster.js';
import { waitFor } from '../../helpers/wait.js';

const { pg, cluster } = linkedClusterForFile(3, { leaseMs: 3000, heartbeatMs: 500 });

test('a delivery lost with its owner counts toward x-delivery-limit; the next return dead-letters it', { skip: pg.skip, timeout: 60_000 }, async () => {
  const setup = await cluster.connect(cluster.nodes[0]!.url);
  const sch = await setup.createChannel();
  await sch.assertExchange('limits.dlx', 'fanout', { durable: true });
  await sch.assertQueue('limits.dead', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await sch.bindQueue('limits.dead', 'limits.dlx', '');
  await sch.assertQueue('limits', { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-delivery-limit': 1, 'x-dead-letter-exchange': 'limits.dlx' } });
  await sch.close();
  await setup.close();
  for (const node of cluster.nodes) await waitFor(async () => (await node.api<unknown[]>('GET', '/api/queues/%2F')).length === 2, `both queues on ${node.name}`);

  const ownerName = await cluster.nodes[0]!.ownerOf('limits');
  const owner = cluster.node(ownerName);
  const living = cluster.nodes.find((n) => n !== owner)!;
  const connection = await cluster.connect(living.url);
  const ch = await connection.createConfirmChannel();
  const deliveries: amqp.ConsumeMessage[] = [];
  await ch.consume('limits', (message) => void (message !== null && deliveries.push(message)));
  ch.sendToQueue('limits', Buffer.from('counted'), { persistent: true });
  await ch.waitForConfirms();
  await waitFor(() => deliveries.length === 1, 'the first delivery');
  assert.equal(deliveries[0]!.fields.redelivered, false);

  // The delivery is held, unacked, when its queue's owner dies.
  await owner.kill();
  await waitFor(() => deliveries.length === 2, 'the delivery again, from the new owner', 20_000);
  assert.notEqual(await living.ownerOf('limits'), ownerName);
  const again = deliveries[1]!;
  assert.equal(again.fields.redelivered, true);
  assert.equal(again.properties.headers?.['x-delivery-count'], 1, 'the lost delivery counted as one return');

  // A second return is over the limit of 1: dead-lettered, not delivered again.
  ch.nack(again, false, true);
  const dead: amqp.ConsumeMessage[] = [];
  const deadChannel = await connection.createChannel();
  await deadChannel.consume('limits.dead', (message) => void (message !== null && dead.push(message)), { noAck: true });
  await waitFor(() => dead.length === 1, 'the message in the dead-letter queue', 10_000);
  assert.equal(dead[0]!.content.toString(), 'counted');
  const death = (dead[0]!.properties.headers?.['x-death'] as { reason: string; queue: string }[] | undefined)?.[0];
  assert.equal(death?.reason, 'delivery_limit');
  assert.equal(death?.queue, 'limits');
  assert.equal(deliveries.length, 2, 'never delivered a third time');
  await deadChannel.close();
  await ch.close();
  await connection.close();
});
