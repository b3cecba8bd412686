/**
 * Idempotent producers across kill -9 (src/kafka/producers.ts): the CLI runs as a child on a temp data
 * dir with its Kafka port fixed, behind a proxy that loses the answer to a kafkajs idempotent producer's
 * Produce and holds its retry; the broker is killed with SIGKILL while the retry waits and restarted,
 * again and again (right after the append, before the producer state snapshot is due, and after it).
 * Checked each round: the retry is answered as a duplicate at the offset the batch was appended at;
 * a raw producer's newest batch sent again is a duplicate too, a sequence gap is
 * OUT_OF_ORDER_SEQUENCE_NUMBER; InitProducerId never hands out an id it gave before a kill.
 * Afterwards the topic holds every record exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { SNAPSHOT_INTERVAL_MS } from '../../src/kafka/producer-recovery.js';
import { cleanEnvironment, runCli, type CliProcess } from '../integration/cli/process.js';
import {
  answerLosingProxy, idempotentBatch, initProducerId, OUT_OF_ORDER_SEQUENCE_NUMBER, rawProduce, readValues, type Producer,
} from '../integration/kafka/idempotence.js';
import { freePort } from '../helpers/ports.js';
import { sleep, waitFor } from '../helpers/wait.js';

const TOPIC = 'idem-crash';
const ROUNDS = 3;

async function startBroker(dataDir: string, kafkaPort: number, advertisedPort: number): Promise<CliProcess> {
  const cli = runCli(
    ['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--kafka-port', String(kafkaPort), '--kafka-advertised-port', String(advertisedPort), '--data-dir', dataDir, '--log-level', 'info'],
    cleanEnvironment({ WARREN_KAFKA_HOST: '127.0.0.1' }),
  );
  await cli.waitForOutput(/Kafka listening on \S+:\d+/, 30_000);
  return cli;
}

test('Kafka: idempotent retries and sequence checks hold across kill -9 of the broker', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-kafka-idem-crash-'));
  const port = await freePort();
  const proxy = await answerLosingProxy({ hold: true });
  proxy.setTarget(port);
  let broker = await startBroker(dataDir, port, proxy.port);
  const kafka = new Kafka({ clientId: 'idem-crash', brokers: [`127.0.0.1:${proxy.port}`], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 500 } });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 500 } });
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC }] });
    await producer.connect();
    const raw: Producer = await initProducerId(port);
    const idsBefore = [raw.producerId];
    let rawSequence = 0;
    let offset = 0;
    const expected: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // The raw producer appends a batch straight to the broker, then kafkajs one through the proxy.
      const rawBatch = (): Buffer => idempotentBatch(raw, rawSequence, 2);
      assert.deepEqual(await rawProduce(port, TOPIC, rawBatch()), { error: 0, baseOffset: BigInt(offset) });
      const rawAt = offset;
      offset += 2;
      expected.push(rawValue(rawSequence), rawValue(rawSequence + 1));
      proxy.arm();
      const values = [`kjs-${round}-0`, `kjs-${round}-1`, `kjs-${round}-2`];
      const sending = producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ value })) });
      await waitFor(() => proxy.lost() === round + 1, `round ${round}: the answer to be lost`, 20_000);
      const kafkajsAt = offset;
      offset += values.length;
      expected.push(...values);
      // Round 0 is killed at once (the tail scan alone rebuilds the state); later rounds after a snapshot.
      if (round > 0) await sleep(SNAPSHOT_INTERVAL_MS * 2);
      broker.child.kill('SIGKILL');
      await broker.exited;
      broker = await startBroker(dataDir, port, proxy.port);
      proxy.release();
      const sent = await sending;
      assert.equal(sent[0]?.baseOffset, String(kafkajsAt), `round ${round}: kafkajs's retry is answered as a duplicate`);
      assert.deepEqual(await rawProduce(port, TOPIC, rawBatch()), { error: 0, baseOffset: BigInt(rawAt) }, `round ${round}: the raw batch again is a duplicate`);
      assert.equal((await rawProduce(port, TOPIC, idempotentBatch(raw, rawSequence + 3, 1))).error, OUT_OF_ORDER_SEQUENCE_NUMBER, `round ${round}: a gap`);
      rawSequence += 2;
      const fresh = await initProducerId(port);
      assert.ok(idsBefore.every((id) => fresh.producerId > id), `round ${round}: id ${fresh.producerId} is new (before: ${idsBefore.join(', ')})`);
      idsBefore.push(fresh.producerId);
    }
    const inLog = await readValues(`127.0.0.1:${port}`, TOPIC);
    assert.deepEqual(inLog.map(([, value]) => value), expected, 'every record once, in order');
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await proxy.close();
    broker.kill();
    await broker.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});

/** The value idempotentBatch gives the record with this sequence (8 bytes of one letter). */
function rawValue(sequence: number): string {
  return String.fromCharCode(97 + (sequence % 26)).repeat(8);
}
