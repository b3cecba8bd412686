/**
 * Compressed batches from real clients: snappy and lz4 from @platformatic/kafka (its wasm codecs),
 * zstd and snappy from librdkafka (kcat), gzip from both. They are stored compressed, as they came
 * (stored-batches.ts), and read back by the same client (@platformatic/kafka on Node 20 has no zstd).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Producer, stringSerializers } from '@platformatic/kafka';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

let warren: KafkaWarren;
const closers: Array<() => Promise<unknown>> = [];
before(async () => {
  warren = await startKafkaWarren({ kafka: { autoCreateTopics: true } });
});
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await warren.close();
});

async function values(topic: string): Promise<string[]> {
  const consumer = new Consumer({ clientId: 'codec-reader', groupId: 'unused', bootstrapBrokers: [warren.bootstrap] });
  closers.push(() => consumer.close());
  const fetched = await consumer.fetch({ node: 0, maxWaitTime: 100, topics: [{ topicId: topic, partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 8 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
  const partition = fetched.responses[0]!.partitions[0]!;
  assert.equal(partition.errorCode, 0);
  return (partition.records ?? []).flatMap((b) => b.records.map((r) => r.value?.toString() ?? ''));
}

const payloads = Array.from({ length: 50 }, (_, i) => `record ${i} ${'abcdefgh'.repeat(40)}`);

for (const compression of ['snappy', 'lz4', 'gzip'] as const) {
  test(`@platformatic/kafka ${compression} batches are stored and read back`, async () => {
    const producer = new Producer({ clientId: `codec-${compression}`, bootstrapBrokers: [warren.bootstrap], serializers: stringSerializers, compression, autocreateTopics: true });
    closers.push(() => producer.close());
    await producer.send({ messages: payloads.map((value) => ({ topic: `codec-${compression}`, partition: 0, value })) });
    assert.deepEqual(await values(`codec-${compression}`), payloads);
  });
}

for (const codec of ['zstd', 'snappy'] as const) {
  test(`librdkafka (kcat) ${codec} batches are stored and read back`, async (t) => {
    if (!hasProgram('/usr/bin/kcat')) return t.skip('kcat is not installed (Debian package kcat)');
    const out = await run('/usr/bin/kcat', ['-b', warren.bootstrap, '-P', '-t', `kcat-${codec}`, '-z', codec, '-X', 'linger.ms=50'], { input: `${payloads.join('\n')}\n` });
    assert.equal(out.code, 0, out.stderr);
    const read = await run('/usr/bin/kcat', ['-b', warren.bootstrap, '-C', '-t', `kcat-${codec}`, '-o', 'beginning', '-e', '-f', '%s\\n']);
    assert.equal(read.code, 0, read.stderr);
    assert.deepEqual(read.stdout.split('\n').slice(0, -1), payloads);
  });
}
