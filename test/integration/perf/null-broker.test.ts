/**
 * The null broker (bench/null-broker.ts), the ceiling of the client benchmarks, driven by a real
 * client: amqplib declares, consumes with a prefetch, publishes with confirms and receives every message
 * once, in order; a fanout exchange reaches every bound queue. And each client benchmark (Java, amqplib,
 * pika) runs against it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { startNullBroker } from '../../../bench/null-broker.js';
import { PERF_CLIENTS, clientTable, runClientScenarios, startNullBroker as startNullBrokerProcess, type PerfClient } from '../../../bench/client-perf.js';
import { waitFor } from '../../helpers/wait.js';

describe('the null broker', () => {
  let broker: { port: number; close(): Promise<void> };
  before(async () => {
    broker = await startNullBroker(0);
  });
  after(async () => {
    await broker.close();
  });

  it('confirms every publish and delivers it once, in order, within the prefetch', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    connection.on('error', () => undefined);
    const consumer = await connection.createChannel();
    await consumer.prefetch(10);
    const { queue } = await consumer.assertQueue('', { exclusive: true });
    const received: string[] = [];
    await consumer.consume(queue, (m) => {
      if (m === null) return;
      received.push(m.content.toString());
      consumer.ack(m);
    });
    const publisher = await connection.createConfirmChannel();
    for (let i = 0; i < 500; i++) publisher.sendToQueue(queue, Buffer.from(String(i)));
    await publisher.waitForConfirms();
    await waitFor(() => received.length >= 500, 'all 500 deliveries');
    assert.deepEqual(received, Array.from({ length: 500 }, (_, i) => String(i)));
    await connection.close();
  });

  it('hands a publish to a fanout exchange to every bound queue', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.port}`);
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    await channel.assertExchange('fan', 'fanout');
    const counts = [0, 0, 0];
    for (let q = 0; q < counts.length; q++) {
      await channel.assertQueue(`fan-${q}`);
      await channel.bindQueue(`fan-${q}`, 'fan', '');
      await channel.consume(`fan-${q}`, () => counts[q]!++, { noAck: true });
    }
    for (let i = 0; i < 20; i++) channel.publish('fan', '', Buffer.from('x'));
    await waitFor(() => counts.every((c) => c === 20), '20 deliveries on every bound queue');
    await connection.close();
  });
});

for (const client of PERF_CLIENTS) describeClientBenchmark(client);

function describeClientBenchmark(client: PerfClient): void {
  describe(`${client.title}'s benchmark`, { skip: client.missing() }, () => {
    it('runs the confirms scenario against the null broker in its own process and tabulates it', async () => {
      const ceiling = await startNullBrokerProcess();
      try {
        const rows = await runClientScenarios(client, [ceiling], { rounds: 1, durationS: 1, scenarios: ['persistent'], progress: () => undefined });
        const outcome = rows[0]?.rounds.get('null broker')?.[0];
        assert.ok(outcome !== undefined && !(outcome instanceof Error), String(outcome));
        assert.ok(outcome.receivedPerSecond > 100, `received ${outcome.receivedPerSecond}/s`);
        assert.ok(outcome.receivedPerSecond <= outcome.sentPerSecond * 1.01);
        assert.match(clientTable(rows, client.title, 'null broker', undefined), /\| persistent 100 B.* \| 100% \|/);
      } finally {
        await ceiling.stop();
      }
    });
  });
}
