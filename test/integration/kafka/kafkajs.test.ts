/**
 * kafkajs 2.x (non-flexible versions only: it takes the highest it knows within each advertised
 * range): admin create/describe/delete, offsets (earliest, latest, by time), produce with keys,
 * headers and timestamps at acks 1, all and 0, and an idempotent producer whose first answer is lost
 * (a proxy cuts the connection after the request reached the broker): kafkajs retries with the same
 * sequence numbers and the broker appends once. Records are read back with @platformatic/kafka's
 * plain Fetch (kafkajs only consumes through consumer groups, which are another part's).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { Consumer } from '@platformatic/kafka';
import { startKafkaWarren, type KafkaWarren } from './harness.js';
import { answerLosingProxy } from './idempotence.js';

let warren: KafkaWarren;
let kafka: Kafka;
const closers: Array<() => Promise<unknown>> = [];
before(async () => {
  warren = await startKafkaWarren();
  kafka = new Kafka({ clientId: 'kjs', brokers: [warren.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 } });
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await warren.close();
});

async function readAll(bootstrap: string, topic: string, partition = 0): Promise<Array<{ offset: bigint; key: string | undefined; value: string | undefined; headers: string[][]; timestamp: bigint }>> {
  const consumer = new Consumer({ clientId: 'reader', groupId: 'unused', bootstrapBrokers: [bootstrap] });
  closers.push(() => consumer.close());
  const fetched = await consumer.fetch({ node: 0, maxWaitTime: 100, topics: [{ topicId: topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
  return fetched.responses[0]!.partitions[0]!.records!.flatMap((batch) =>
    batch.records.map((r) => ({
      offset: batch.firstOffset + BigInt(r.offsetDelta),
      key: r.key?.toString(),
      value: r.value?.toString(),
      headers: r.headers.map(([k, v]) => [k?.toString() ?? '', v?.toString() ?? '']),
      timestamp: batch.firstTimestamp + r.timestampDelta,
    })),
  );
}

test('kafkajs admin: create (1 and 4 partitions), duplicates refused, describe configs, delete', async () => {
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs-a' }, { topic: 'kjs-b', numPartitions: 4, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] }), true);
  assert.equal(await admin.createTopics({ topics: [{ topic: 'kjs-a' }] }), false, 'already there: kafkajs reports false');
  const metadata = await admin.fetchTopicMetadata({ topics: ['kjs-a', 'kjs-b'] });
  assert.deepEqual(metadata.topics.map((t) => [t.name, t.partitions.length]).sort(), [['kjs-a', 1], ['kjs-b', 4]]);
  const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'kjs-b', configNames: ['retention.ms', 'retention.bytes'] }] });
  const entries = Object.fromEntries(described.resources[0]!.configEntries.map((e) => [e.configName, e.configValue]));
  assert.deepEqual(entries, { 'retention.ms': '3600000', 'retention.bytes': '-1' });
  await assert.rejects(admin.createTopics({ topics: [{ topic: 'kjs-bad', replicationFactor: 3 }] }), (error: { errors?: Array<{ type?: string }> }) => error.errors?.[0]?.type === 'INVALID_REPLICATION_FACTOR');
  await admin.deleteTopics({ topics: ['kjs-a'] });
  assert.ok(!(await admin.listTopics()).includes('kjs-a'));
});

test('kafkajs produces with keys, headers and timestamps (acks all, 1, 0; gzip) and lists offsets', async () => {
  const admin = kafka.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'kjs-records' }] });
  const producer = kafka.producer();
  await producer.connect();
  closers.push(() => producer.disconnect());
  const base = Date.now() - 60_000;
  const sent = await producer.send({ topic: 'kjs-records', acks: -1, messages: [{ key: 'k0', value: 'v0', headers: { h: 'x' }, timestamp: String(base) }, { key: 'k1', value: 'v1', timestamp: String(base + 1000) }] });
  assert.equal(sent[0]?.baseOffset, '0');
  await producer.send({ topic: 'kjs-records', acks: 1, compression: CompressionTypes.GZIP, messages: [{ key: 'k2', value: 'v2', timestamp: String(base + 2000) }] });
  await producer.send({ topic: 'kjs-records', acks: 0, messages: [{ key: 'k3', value: 'v3', timestamp: String(base + 3000) }] });
  // acks=0 is never answered; its record is there once the next answered request is.
  await producer.send({ topic: 'kjs-records', acks: 1, messages: [{ key: 'k4', value: 'v4', timestamp: String(base + 4000) }] });
  const records = await readAll(warren.bootstrap, 'kjs-records');
  assert.deepEqual(records.map((r) => [r.offset, r.key, r.value, Number(r.timestamp) - base]), [0, 1, 2, 3, 4].map((i) => [BigInt(i), `k${i}`, `v${i}`, i * 1000]));
  assert.deepEqual(records[0]!.headers, [['h', 'x']]);
  assert.deepEqual(await admin.fetchTopicOffsets('kjs-records'), [{ partition: 0, offset: '5', high: '5', low: '0' }]);
  assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp('kjs-records', base + 2500), [{ partition: 0, offset: '3' }]);
});

test('an idempotent kafkajs producer whose answer is lost retries, and the broker appends once', async () => {
  const proxy = await answerLosingProxy();
  closers.push(() => proxy.close());
  // The door advertises the proxy, so every connection kafkajs makes goes through it.
  const behind = await startKafkaWarren({ kafka: { advertisedPort: proxy.port } });
  closers.push(() => behind.close());
  proxy.setTarget(behind.kafkaPort);
  const client = new Kafka({ clientId: 'kjs-idem', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
  const admin = client.admin();
  await admin.connect();
  closers.push(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'kjs-idem' }] });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  closers.push(() => producer.disconnect());
  await producer.send({ topic: 'kjs-idem', messages: [{ key: 'a', value: 'first' }, { key: 'b', value: 'second' }] });
  assert.equal(proxy.lost(), 1, 'the first answer was lost and kafkajs retried');
  await producer.send({ topic: 'kjs-idem', messages: [{ key: 'c', value: 'third' }] });
  const records = await readAll(behind.bootstrap, 'kjs-idem');
  assert.deepEqual(records.map((r) => [r.offset, r.value]), [[0n, 'first'], [1n, 'second'], [2n, 'third']]);
});
