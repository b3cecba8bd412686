/**
 * One log, two protocols: what a Kafka producer writes an AMQP stream consumer reads (x-stream-offset),
 * and what an AMQP publisher writes a Kafka consumer fetches; a super stream declared over AMQP is a
 * partitioned topic. Mapping (message-mapping.ts): headers <-> headers, key -> x-kafka-key and the
 * routing key, timestamp <-> the message's timestamp.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp, { type ConsumeMessage } from 'amqplib';
import { Kafka, logLevel } from 'kafkajs';
import { Consumer } from '@platformatic/kafka';
import { waitFor } from '../../helpers/wait.js';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

let warren: KafkaWarren;
let kafka: Kafka;
const closers: Array<() => Promise<unknown>> = [];
before(async () => {
  warren = await startKafkaWarren();
  kafka = new Kafka({ clientId: 'cross', brokers: [warren.bootstrap], logLevel: logLevel.NOTHING });
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await warren.close();
});

async function fetchRecords(topic: string, partition = 0): Promise<Array<{ offset: bigint; key: string | null; value: string; headers: Record<string, string>; timestamp: number }>> {
  const consumer = new Consumer({ clientId: 'cross-reader', groupId: 'unused', bootstrapBrokers: [warren.bootstrap] });
  closers.push(() => consumer.close());
  const fetched = await consumer.fetch({ node: 0, maxWaitTime: 100, topics: [{ topicId: topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
  const p = fetched.responses[0]!.partitions[0]!;
  assert.equal(p.errorCode, 0);
  return (p.records ?? []).flatMap((batch) =>
    batch.records.map((r) => ({
      offset: batch.firstOffset + BigInt(r.offsetDelta),
      key: r.key === null ? null : r.key.toString(),
      value: r.value?.toString() ?? '',
      headers: Object.fromEntries(r.headers.map(([k, v]) => [k?.toString() ?? '', v?.toString() ?? ''])),
      timestamp: Number(batch.firstTimestamp + r.timestampDelta),
    })),
  );
}

async function amqpConsume(queue: string, count: number): Promise<ConsumeMessage[]> {
  const connection = await amqp.connect(warren.url);
  closers.push(() => connection.close());
  const channel = await connection.createChannel();
  await channel.prefetch(100);
  const got: ConsumeMessage[] = [];
  await channel.consume(queue, (m) => {
    if (m === null) return;
    got.push(m);
    channel.ack(m);
  }, { arguments: { 'x-stream-offset': 'first' } });
  await waitFor(() => got.length >= count, `${count} AMQP deliveries from ${queue}`);
  return got;
}

test('Kafka -> AMQP: a kafkajs record is an AMQP stream delivery with its headers, key and timestamp', async () => {
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'k2a' }] });
  const producer = kafka.producer();
  await producer.connect();
  closers.push(() => producer.disconnect());
  const timestamp = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
  await producer.send({ topic: 'k2a', messages: [{ key: 'order-1', value: 'hello', headers: { source: 'kafka', bin: Buffer.from([0xff, 0x00]) }, timestamp: String(timestamp) }, { key: null, value: 'no key' }] });
  const [first, second] = await amqpConsume('k2a', 2);
  assert.equal(first!.content.toString(), 'hello');
  assert.equal(first!.fields.routingKey, 'order-1');
  assert.equal(first!.fields.exchange, 'k2a');
  assert.equal(first!.properties.timestamp, Math.floor(timestamp / 1000));
  const headers = first!.properties.headers!;
  assert.equal(headers['source'], 'kafka');
  assert.deepEqual(headers['bin'], Buffer.from([0xff, 0x00]), 'a value that is not UTF-8 stays bytes');
  assert.equal(headers['x-kafka-key'], 'order-1');
  assert.equal(Number(headers['x-stream-offset']), 0);
  assert.equal(second!.content.toString(), 'no key');
  assert.equal(second!.properties.headers?.['x-kafka-key'], undefined);
  assert.equal(Number(second!.properties.headers?.['x-stream-offset']), 1);
  // Back through Kafka the record is unchanged, timestamp to the millisecond.
  const [again] = await fetchRecords('k2a');
  assert.deepEqual({ key: again!.key, value: again!.value, source: again!.headers['source'], timestamp: again!.timestamp }, { key: 'order-1', value: 'hello', source: 'kafka', timestamp });
});

test('AMQP -> Kafka: an amqplib publish to a stream is a record; the key is x-kafka-key, else an exchange routing key', async () => {
  const connection = await amqp.connect(warren.url);
  closers.push(() => connection.close());
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue('a2k', { durable: true, arguments: { 'x-queue-type': 'stream' } });
  await channel.assertExchange('a2k-direct', 'direct', { durable: true });
  await channel.bindQueue('a2k', 'a2k-direct', 'rk-1');
  const before = Date.now();
  channel.sendToQueue('a2k', Buffer.from('plain'), { headers: { a: 'b', n: 5 } });
  channel.publish('a2k-direct', 'rk-1', Buffer.from('routed'));
  channel.sendToQueue('a2k', Buffer.from('explicit'), { headers: { 'x-kafka-key': 'chosen' } });
  await channel.waitForConfirms();
  const records = await fetchRecords('a2k');
  assert.deepEqual(records.map((r) => [r.offset, r.key, r.value]), [[0n, null, 'plain'], [1n, 'rk-1', 'routed'], [2n, 'chosen', 'explicit']]);
  assert.deepEqual(records[0]!.headers, { a: 'b', n: '5' });
  assert.deepEqual(records[2]!.headers, {}, 'x-kafka-key is the key, not a header');
  assert.ok(records[0]!.timestamp >= before - 5 && records[0]!.timestamp <= Date.now() + 5, 'the publish time, in ms');
});

test('a super stream declared over AMQP is a partitioned topic; kafkajs writes a partition an AMQP consumer reads', async () => {
  const connection = await amqp.connect(warren.url);
  closers.push(() => connection.close());
  const channel = await connection.createChannel();
  await channel.assertExchange('orders', 'x-super-stream', { durable: true });
  for (let i = 0; i < 3; i++) {
    await channel.assertQueue(`orders-${i}`, { durable: true, arguments: { 'x-queue-type': 'stream' } });
    await channel.bindQueue(`orders-${i}`, 'orders', String(i), { 'x-stream-partition-order': i });
  }
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  const metadata = await admin.fetchTopicMetadata({ topics: ['orders'] });
  assert.deepEqual(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort(), [0, 1, 2]);
  const listed = await admin.listTopics();
  assert.ok(listed.includes('orders') && !listed.includes('orders-0'), `partition streams are not topics of their own: ${listed.join(',')}`);
  const producer = kafka.producer();
  await producer.connect();
  closers.push(() => producer.disconnect());
  await producer.send({ topic: 'orders', messages: [{ partition: 2, key: 'o-9', value: 'to partition 2' }] });
  const [delivery] = await amqpConsume('orders-2', 1);
  assert.equal(delivery!.content.toString(), 'to partition 2');
});

const KCAT = '/usr/bin/kcat';
const noKcat = hasProgram(KCAT) ? false : 'kcat is not installed (Debian package kcat)';

test('stored batches: kcat batches (gzip and plain) and an AMQP publish share one log; amqplib and kcat read all of it', { skip: noKcat }, async () => {
  const kcat = (args: string[], input?: string) =>
    run(KCAT, ['-b', warren.bootstrap, '-t', 'mixed', ...args], input === undefined ? {} : { input });
  const created = await kafka.admin();
  await created.connect();
  closers.push(() => created.disconnect());
  await created.createTopics({ topics: [{ topic: 'mixed', numPartitions: 1 }] });
  const gzip = await kcat(['-P', '-z', 'gzip', '-K', ':', '-X', 'linger.ms=50'], 'k1:one\nk2:two\nk3:three\n');
  assert.equal(gzip.code, 0, gzip.stderr);
  const connection = await amqp.connect(warren.url);
  closers.push(() => connection.close());
  const channel = await connection.createConfirmChannel();
  channel.sendToQueue('mixed', Buffer.from('from amqp'), { headers: { 'x-kafka-key': 'ak' } });
  await channel.waitForConfirms();
  const plain = await kcat(['-P', '-K', ':', '-X', 'linger.ms=50'], 'k5:five\nk6:six\n');
  assert.equal(plain.code, 0, plain.stderr);

  const deliveries = await amqpConsume('mixed', 6);
  assert.deepEqual(deliveries.map((m) => [Number((m.properties.headers?.['x-stream-offset'] as number) ?? -1), m.content.toString(), String(m.properties.headers?.['x-kafka-key'])]),
    [[0, 'one', 'k1'], [1, 'two', 'k2'], [2, 'three', 'k3'], [3, 'from amqp', 'ak'], [4, 'five', 'k5'], [5, 'six', 'k6']]);
  assert.equal(deliveries[0]!.fields.exchange, 'mixed', 'Kafka-written messages carry the topic as their exchange');

  const all = await kcat(['-C', '-e', '-o', 'beginning', '-f', '%o %k %s\\n']);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(all.stdout.trim().split('\n'), ['0 k1 one', '1 k2 two', '2 k3 three', '3 ak from amqp', '4 k5 five', '5 k6 six']);
  const fromInside = await kcat(['-C', '-e', '-o', '1', '-f', '%o %s\\n']);
  assert.deepEqual(fromInside.stdout.trim().split('\n'), ['1 two', '2 three', '3 from amqp', '4 five', '5 six'], 'a fetch from inside a stored batch starts at its offset');
});
