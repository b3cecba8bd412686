/**
 * @platformatic/kafka 1.x (the version for Node 20): it always takes the highest version it
 * implements within the advertised range, so this proves the flexible versions (Metadata v9,
 * Fetch v12, CreateTopics v7, DeleteTopics v6, InitProducerId v4) next to Produce v8 and
 * ListOffsets v5: create a topic, produce with keys, headers and timestamps, fetch from an offset,
 * list offsets (earliest, latest, by time), a fetch long poll that returns when data arrives.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';
import { startKafkaWarren, type KafkaWarren } from './harness.js';

let warren: KafkaWarren;
const clients: Array<{ close(): Promise<void> }> = [];
before(async () => {
  warren = await startKafkaWarren();
});
after(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  await warren.close();
});

function admin(): Admin {
  const client = new Admin({ clientId: 'pk-admin', bootstrapBrokers: [warren.bootstrap] });
  clients.push(client);
  return client;
}

function consumer(): Consumer<Buffer, Buffer, Buffer, Buffer> {
  const client = new Consumer({ clientId: 'pk-consumer', groupId: 'pk-unused', bootstrapBrokers: [warren.bootstrap] });
  clients.push(client);
  return client;
}

test('@platformatic/kafka creates topics (v7) and sees them in Metadata v9; duplicates are refused', async () => {
  const a = admin();
  const created = await a.createTopics({ topics: ['pk-topic'], partitions: 3, replicas: 1 });
  assert.equal(created[0]?.name, 'pk-topic');
  assert.equal(created[0]?.partitions, 3);
  const listed = await a.listTopics();
  assert.ok(listed.includes('pk-topic'), JSON.stringify(listed));
  await assert.rejects(a.createTopics({ topics: ['pk-topic'], partitions: 1, replicas: 1 }), (error: Error) => /already exists/i.test(JSON.stringify(error, Object.getOwnPropertyNames(error))) || /TOPIC_ALREADY_EXISTS/.test(JSON.stringify(error)));
});

test('@platformatic/kafka produces with keys, headers and timestamps; Fetch v12 reads them from an offset', async () => {
  await admin().createTopics({ topics: ['pk-records'], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'pk-producer', bootstrapBrokers: [warren.bootstrap], serializers: stringSerializers, acks: ProduceAcks.ALL });
  clients.push(producer);
  const base = BigInt(Date.now() - 10_000);
  const result = await producer.send({
    messages: [0, 1, 2, 3].map((i) => ({ topic: 'pk-records', partition: 0, key: `k${i}`, value: `v${i}`, headers: { idx: String(i) }, timestamp: base + BigInt(i) })),
  });
  assert.equal(result.offsets?.[0]?.offset, 0n);
  const c = consumer();
  const fetched = await c.fetch({ node: 0, topics: [{ topicId: 'pk-records', partitions: [{ partition: 0, fetchOffset: 1n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
  const partition = fetched.responses[0]!.partitions[0]!;
  assert.equal(partition.errorCode, 0);
  assert.equal(partition.highWatermark, 4n);
  const records = partition.records!.flatMap((batch) => batch.records.map((r) => ({ offset: batch.firstOffset + BigInt(r.offsetDelta), ts: batch.firstTimestamp + r.timestampDelta, key: r.key?.toString(), value: r.value?.toString(), headers: r.headers.map(([k, v]) => [k?.toString(), v?.toString()]) })));
  assert.deepEqual(records, [1, 2, 3].map((i) => ({ offset: BigInt(i), ts: base + BigInt(i), key: `k${i}`, value: `v${i}`, headers: [['idx', String(i)]] })));

  const earliest = await c.listOffsets({ topics: ['pk-records'], timestamp: -2n });
  const latest = await c.listOffsets({ topics: ['pk-records'], timestamp: -1n });
  const byTime = await c.listOffsets({ topics: ['pk-records'], timestamp: base + 2n });
  assert.deepEqual([earliest.get('pk-records')?.[0], latest.get('pk-records')?.[0], byTime.get('pk-records')?.[0]], [0n, 4n, 2n]);
});

test('an idempotent @platformatic/kafka producer (InitProducerId v4) appends once per send', async () => {
  await admin().createTopics({ topics: ['pk-idem'], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'pk-idem', bootstrapBrokers: [warren.bootstrap], serializers: stringSerializers, idempotent: true });
  clients.push(producer);
  for (let i = 0; i < 3; i++) await producer.send({ messages: [{ topic: 'pk-idem', partition: 0, key: 'k', value: `v${i}` }] });
  const latest = await consumer().listOffsets({ topics: ['pk-idem'], timestamp: -1n });
  assert.equal(latest.get('pk-idem')?.[0], 3n);
});

test('a @platformatic/kafka fetch at the end long-polls and returns when a record arrives', async () => {
  await admin().createTopics({ topics: ['pk-poll'], partitions: 1, replicas: 1 });
  const producer = new Producer({ clientId: 'pk-poll', bootstrapBrokers: [warren.bootstrap], serializers: stringSerializers });
  clients.push(producer);
  const c = consumer();
  const started = Date.now();
  const polling = c.fetch({ node: 0, maxWaitTime: 10_000, topics: [{ topicId: 'pk-poll', partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
  await new Promise((resolve) => setTimeout(resolve, 700));
  await producer.send({ messages: [{ topic: 'pk-poll', partition: 0, value: 'late' }] });
  const fetched = await polling;
  const waited = Date.now() - started;
  const values = fetched.responses[0]!.partitions[0]!.records!.flatMap((b) => b.records.map((r) => r.value?.toString()));
  assert.deepEqual(values, ['late']);
  assert.ok(waited >= 600, `the poll waited for the data (${waited} ms)`);
  assert.ok(waited < 9_000, `and returned when it came, not at max wait (${waited} ms)`);
});

test('@platformatic/kafka deletes topics with DeleteTopics v6', async () => {
  const a = admin();
  await a.createTopics({ topics: ['pk-gone'], partitions: 1, replicas: 1 });
  await a.deleteTopics({ topics: ['pk-gone'] });
  assert.ok(!(await a.listTopics()).includes('pk-gone'));
});
