/**
 * Idempotent producers across a broker restart (src/kafka/producers.ts): a kafkajs producer whose
 * answer was lost retries after the broker was restarted on its data dir, and the retry is answered as a
 * duplicate (same base offset) rather than appended twice; over raw requests, a sequence gap after the
 * restart is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch is INVALID_PRODUCER_EPOCH, new producer ids
 * never repeat one handed out before; and a producer silent while more than the tail scan's budget was
 * written is still known (the producer state snapshot).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { TAIL_SCAN_BYTES } from '../../../src/kafka/producer-recovery.js';
import { encodeBatch } from '../../../src/kafka/protocol/record-batch.js';
import { startKafkaWarren, type KafkaWarren } from './harness.js';
import {
  answerLosingProxy, idempotentBatch, initProducerId, initProducerIds, INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, rawProduce, readValues,
} from './idempotence.js';
import { sleep, waitFor } from '../../helpers/wait.js';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** Stops `warren` (its data dir stays) and starts a new one on it. */
async function restart(warren: KafkaWarren, kafka: Parameters<typeof startKafkaWarren>[0] = {}): Promise<KafkaWarren> {
  await warren.stop();
  const next = await startKafkaWarren({ ...kafka, dataDir: warren.dataDir });
  closers.push(() => next.close());
  return next;
}

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }] });
  await admin.disconnect();
}

test('a kafkajs retry of a batch appended before a broker restart is a duplicate, not a second append', async () => {
  const proxy = await answerLosingProxy({ hold: true });
  closers.push(() => proxy.close());
  // The door advertises the proxy, so every connection kafkajs makes (and its retry) goes through it.
  const first = await startKafkaWarren({ kafka: { advertisedPort: proxy.port } });
  closers.push(() => first.close());
  proxy.setTarget(first.kafkaPort);
  await createTopic(first.bootstrap, 'restart-idem');
  const client = new Kafka({ clientId: 'kjs-restart', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 500 } });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  closers.push(() => producer.disconnect());
  const sending = producer.send({ topic: 'restart-idem', messages: [{ key: 'a', value: 'first' }, { key: 'b', value: 'second' }] });
  await waitFor(() => proxy.lost() === 1, 'the first answer to be lost', 10_000);
  // (Read in-process: the door advertises the proxy, which holds every connection now.)
  assert.equal(first.server.kafka?.door.topics.find('restart-idem')?.partitions[0]?.log.nextOffset, 2, 'appended before the restart');
  const second = await restart(first, { kafka: { advertisedPort: proxy.port } });
  proxy.setTarget(second.kafkaPort);
  proxy.release();
  const sent = await sending;
  assert.equal(sent[0]?.baseOffset, '0', 'the retry is answered with the original base offset');
  await producer.send({ topic: 'restart-idem', messages: [{ key: 'c', value: 'third' }] });
  assert.deepEqual(await readValues(second.bootstrap, 'restart-idem'), [[0n, 'first'], [1n, 'second'], [2n, 'third']]);
});

test('after a restart: duplicates keep their offsets, a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an old epoch is fenced, ids do not repeat', async () => {
  let warren = await startKafkaWarren();
  closers.push(() => warren.close());
  await createTopic(warren.bootstrap, 'restart-raw');
  const p = await initProducerId(warren.kafkaPort);
  assert.equal(p.error, 0);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 0, 3)), { error: 0, baseOffset: 0n });
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 3, 2)), { error: 0, baseOffset: 3n });
  // A producer that re-initialised (KIP-360) writes with epoch 1; epoch 0 is fenced from then on.
  const q0 = await initProducerId(warren.kafkaPort);
  const q1 = await initProducerId(warren.kafkaPort, q0);
  assert.deepEqual([q1.error, q1.producerId, q1.epoch], [0, q0.producerId, 1]);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(q1, 0, 1)), { error: 0, baseOffset: 5n });

  warren = await restart(warren);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 3, 2)), { error: 0, baseOffset: 3n }, 'the newest batch again: a duplicate');
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 0, 3)), { error: 0, baseOffset: 0n }, 'an older one of the last five: a duplicate too');
  assert.equal((await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 7, 1))).error, OUT_OF_ORDER_SEQUENCE_NUMBER, 'a gap (5 and 6 missing)');
  assert.equal((await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch({ producerId: q1.producerId, epoch: 0 }, 1, 1))).error, INVALID_PRODUCER_EPOCH);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(p, 5, 1)), { error: 0, baseOffset: 6n }, 'the next sequence is taken');
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-raw', idempotentBatch(q1, 1, 1)), { error: 0, baseOffset: 7n });
  const fresh = await initProducerId(warren.kafkaPort);
  assert.ok(fresh.producerId > q0.producerId, `a new id (${fresh.producerId}) after the restart is above every id before it (${p.producerId}, ${q0.producerId})`);
  assert.equal((await readValues(warren.bootstrap, 'restart-raw')).length, 8, 'nothing appended twice');
});

test('a producer silent while more than the tail scan budget was written is still known after a restart (snapshot)', async () => {
  let warren = await startKafkaWarren();
  closers.push(() => warren.close());
  await createTopic(warren.bootstrap, 'restart-quiet');
  const quiet = await initProducerId(warren.kafkaPort);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-quiet', idempotentBatch(quiet, 0, 2)), { error: 0, baseOffset: 0n });
  // Then a plain producer writes more than the scan reads back, in batches of 1000 records of 1000 B.
  const record = { timestamp: Date.now(), key: null, value: Buffer.alloc(1000, 120), headers: [] };
  const batch = encodeBatch(0, Array.from({ length: 1000 }, () => record));
  let offset = 2n;
  for (let written = 0; written <= TAIL_SCAN_BYTES; written += batch.length) {
    assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-quiet', batch), { error: 0, baseOffset: offset });
    offset += 1000n;
  }
  warren = await restart(warren);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-quiet', idempotentBatch(quiet, 0, 2)), { error: 0, baseOffset: 0n }, 'its retry is a duplicate');
  assert.equal((await rawProduce(warren.kafkaPort, 'restart-quiet', idempotentBatch(quiet, 3, 1))).error, OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-quiet', idempotentBatch(quiet, 2, 1)), { error: 0, baseOffset: offset });
});

test('producer ids handed out faster than one a millisecond still never repeat after a restart', async () => {
  let warren = await startKafkaWarren();
  closers.push(() => warren.close());
  const before = await initProducerIds(warren.kafkaPort, 3000);
  assert.equal(new Set(before).size, before.length, 'distinct within a run');
  warren = await restart(warren);
  const [next] = await initProducerIds(warren.kafkaPort, 1);
  const highest = before.reduce((a, b) => (a > b ? a : b));
  assert.ok(next! > highest, `${next} after the restart is above ${highest}, the highest before it`);
});

test('a topic deleted over the management API and declared again does not inherit the old producers (a restart included)', async () => {
  let warren = await startKafkaWarren();
  closers.push(() => warren.close());
  await createTopic(warren.bootstrap, 'restart-again');
  const old = await initProducerId(warren.kafkaPort);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-again', idempotentBatch(old, 0, 2)), { error: 0, baseOffset: 0n });
  await sleep(1500); // a snapshot of the old log is written
  assert.equal((await warren.api('DELETE', '/api/queues/%2F/restart-again')).status, 204);
  assert.equal((await warren.api('PUT', '/api/queues/%2F/restart-again', { durable: true, arguments: { 'x-queue-type': 'stream' } })).status, 201);
  const fresh = await initProducerId(warren.kafkaPort);
  for (let i = 0; i < 3; i++) assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-again', idempotentBatch(fresh, i, 1)), { error: 0, baseOffset: BigInt(i) });
  warren = await restart(warren);
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-again', idempotentBatch(fresh, 0, 1)), { error: 0, baseOffset: 0n }, 'the first batch of the new log again: a duplicate');
  assert.deepEqual(await rawProduce(warren.kafkaPort, 'restart-again', idempotentBatch(fresh, 3, 1)), { error: 0, baseOffset: 3n });
});
