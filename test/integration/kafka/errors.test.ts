/**
 * Kafka error codes for well-framed requests that cannot be done (never a dropped connection):
 * unknown topics (auto-create off), bad partition counts, existing topics, oversized and corrupt
 * batches; and records that survive a broker restart (the streams are durable).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { encodeBatch } from '../../../src/kafka/protocol/record-batch.js';
import { startKafkaWarren, type KafkaWarren } from './harness.js';
import { rawProduce as rawProduceTo } from './idempotence.js';

let warren: KafkaWarren;
let kafka: Kafka;
const closers: Array<() => Promise<unknown>> = [];
before(async () => {
  warren = await startKafkaWarren();
  kafka = new Kafka({ clientId: 'errors', brokers: [warren.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await warren.close();
});

/** A Produce v7 of `records` to topic/partition 0 over a raw socket; the partition's error code and base offset. */
const rawProduce = (topic: string, records: Buffer) => rawProduceTo(warren.kafkaPort, topic, records);

test('unknown topics, bad partition counts and existing topics are Kafka error codes', async () => {
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  closers.push(() => producer.disconnect());
  await assert.rejects(producer.send({ topic: 'nowhere', messages: [{ value: 'x' }] }), (error: { type?: string; name?: string }) => error.type === 'UNKNOWN_TOPIC_OR_PARTITION' || /UNKNOWN_TOPIC|does not host/i.test(String(error)));
  await assert.rejects(admin.createTopics({ topics: [{ topic: 'zero', numPartitions: 0 }] }), (error: { errors?: Array<{ type?: string }> }) => error.errors?.[0]?.type === 'INVALID_PARTITIONS');
  await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad/name' }] }), (error: { errors?: Array<{ type?: string }> }) => error.errors?.[0]?.type === 'INVALID_TOPIC_EXCEPTION');
  assert.equal(await admin.createTopics({ topics: [{ topic: 'errors-t' }] }), true);
  assert.equal((await rawProduce('nowhere', encodeBatch(0, [{ timestamp: 1, key: null, value: Buffer.from('x'), headers: [] }]))).error, 3, 'UNKNOWN_TOPIC_OR_PARTITION');
});

test('a batch with a wrong CRC is CORRUPT_MESSAGE, one over the size limit MESSAGE_TOO_LARGE; nothing is appended', async () => {
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'errors-batch' }] });
  const batch = encodeBatch(0, [{ timestamp: 1, key: null, value: Buffer.from('value'), headers: [] }]);
  const corrupt = Buffer.from(batch);
  corrupt[corrupt.length - 3] = corrupt[corrupt.length - 3]! ^ 0xff;
  assert.equal((await rawProduce('errors-batch', corrupt)).error, 2, 'CORRUPT_MESSAGE');
  const huge = encodeBatch(0, [{ timestamp: 1, key: null, value: Buffer.alloc(1_100_000, 7), headers: [] }]);
  assert.equal((await rawProduce('errors-batch', huge)).error, 10, 'MESSAGE_TOO_LARGE');
  const good = await rawProduce('errors-batch', batch);
  assert.deepEqual(good, { error: 0, baseOffset: 0n }, 'the refused batches took no offsets');
});

test('records survive a broker restart on the same data dir', async () => {
  const first = await startKafkaWarren();
  const dataDir = first.dataDir;
  const client = new Kafka({ clientId: 'restart', brokers: [first.bootstrap], logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 2 }] });
  const producer = client.producer();
  await producer.connect();
  await producer.send({ topic: 'durable', acks: -1, messages: [{ partition: 1, key: 'k', value: 'kept' }] });
  await producer.disconnect();
  await admin.disconnect();
  await first.stop();
  const second = await startKafkaWarren({ dataDir });
  closers.push(() => second.close());
  const again = new Kafka({ clientId: 'restart-2', brokers: [second.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await again.connect();
  closers.push(() => again.disconnect());
  assert.deepEqual((await again.fetchTopicOffsets('durable')).sort((a, b) => a.partition - b.partition).map((p) => [p.partition, p.high]), [[0, '0'], [1, '1']]);
});
