/**
 * kill -9 of a broker under Kafka traffic: the CLI runs as a child on a temp data dir with its Kafka
 * port fixed, and is killed and restarted in a loop while a kafkajs producer (acks=all) and a consumer
 * group (two kafkajs members, auto-commit) keep running across the restarts, reconnecting by
 * themselves. Checked: every produced record the broker acknowledged is in the topic afterwards and was
 * consumed by the group; at every restart each partition's committed offset is at least the last commit
 * the broker acknowledged before the kill (offsets never go backwards past a commit); and the group
 * never reads a partition from before what it had committed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { cleanEnvironment, runCli, type CliProcess } from '../integration/cli/process.js';
import { freePort } from '../helpers/ports.js';
import { sleep, waitFor } from '../helpers/wait.js';

const TOPIC = 'crash-topic';
const GROUP = 'crash-group';
const PARTITIONS = 3;
const ROUNDS = 3;

async function startBroker(dataDir: string, kafkaPort: number): Promise<CliProcess> {
  const cli = runCli(
    ['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--kafka-port', String(kafkaPort), '--data-dir', dataDir, '--log-level', 'info'],
    cleanEnvironment({ WARREN_KAFKA_HOST: '127.0.0.1' }),
  );
  await cli.waitForOutput(/Kafka listening on \S+:\d+/, 30_000);
  return cli;
}

test('Kafka: acknowledged records and committed offsets survive kill -9 of the broker, again and again', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-kafka-crash-'));
  const port = await freePort();
  let broker = await startBroker(dataDir, port);
  const kafka = new Kafka({
    clientId: 'crash',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries: 1000, initialRetryTime: 50, maxRetryTime: 300 },
    connectionTimeout: 500,
    requestTimeout: 3000,
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });

  const acked = new Set<string>();
  let producing = true;
  const producer = kafka.producer({ retry: { retries: 1000, initialRetryTime: 50, maxRetryTime: 300 } });
  await producer.connect();
  const producerDone = (async () => {
    let next = 0;
    while (producing) {
      const values = Array.from({ length: 20 }, () => String(next++));
      try {
        await producer.send({ topic: TOPIC, acks: -1, messages: values.map((value) => ({ key: value, value })) });
        for (const value of values) acked.add(value);
      } catch {
        // Not acknowledged: these may or may not be in the log.
      }
      await sleep(5);
    }
  })();

  // The group: what it read, and the highest commit per partition the broker acknowledged.
  const consumed = new Set<string>();
  const ackedCommits = new Map<number, number>();
  const regressions: string[] = [];
  const members: Consumer[] = [];
  for (let i = 0; i < 2; i++) {
    const consumer = kafka.consumer({ groupId: GROUP, sessionTimeout: 3000, heartbeatInterval: 200, rebalanceTimeout: 5000, maxWaitTimeInMs: 200, retry: { retries: 1000, initialRetryTime: 50, maxRetryTime: 300 } });
    consumer.on(consumer.events.COMMIT_OFFSETS, ({ payload }) => {
      for (const t of payload.topics) for (const p of t.partitions) ackedCommits.set(Number(p.partition), Math.max(ackedCommits.get(Number(p.partition)) ?? 0, Number(p.offset)));
    });
    // When a member is given partitions, it must start each at or after the last acknowledged commit.
    // (A member may still finish a batch fetched before a rebalance: those reads are not checked.)
    let floors = new Map<number, number>();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      floors = new Map((payload.memberAssignment[TOPIC] ?? []).map((p) => [p, ackedCommits.get(p) ?? 0]));
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const floor = floors.get(partition);
        if (floor !== undefined && Number(message.offset) < floor) regressions.push(`partition ${partition}: read ${message.offset} below commit ${floor}`);
        floors.delete(partition); // checked at the first read after the assignment
        consumed.add(message.value!.toString());
      },
    });
    members.push(consumer);
  }

  const committedNow = async (): Promise<Map<number, number>> => {
    const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return new Map(offsets!.partitions.map((p) => [p.partition, Number(p.offset)]));
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      await waitFor(() => consumed.size > 0 && acked.size > round * 200, `traffic in round ${round}`, 30_000);
      await sleep(400 + Math.floor(Math.random() * 1000));
      const commitsBeforeKill = new Map(ackedCommits);
      const ackedBeforeKill = acked.size;
      broker.child.kill('SIGKILL');
      await broker.exited;
      broker = await startBroker(dataDir, port);
      // Offsets never go backwards: what was acknowledged as committed is still committed (or more).
      const after = await committedNow();
      for (const [partition, offset] of commitsBeforeKill) {
        assert.ok((after.get(partition) ?? -1) >= offset, `round ${round}, partition ${partition}: committed ${after.get(partition)} after the restart, ${offset} acknowledged before`);
      }
      assert.ok(ackedBeforeKill > 0);
    }
    producing = false;
    await producerDone;
    assert.ok(acked.size > 500, `only ${acked.size} records acknowledged`);

    // Every acknowledged record is in the log, and the group (which kept running) read it.
    await waitFor(() => [...acked].every((value) => consumed.has(value)), 'the group to read every acknowledged record', 30_000);
    const reader = kafka.consumer({ groupId: 'crash-reader', maxWaitTimeInMs: 200 });
    const inLog = new Set<string>();
    await reader.connect();
    await reader.subscribe({ topics: [TOPIC], fromBeginning: true });
    await reader.run({ eachMessage: async ({ message }) => void inLog.add(message.value!.toString()) });
    await waitFor(() => [...acked].every((value) => inLog.has(value)), 'every acknowledged record in the log', 30_000);
    await reader.disconnect();
    assert.deepEqual(regressions, [], 'the group never read below an acknowledged commit');
  } finally {
    producing = false;
    await producerDone.catch(() => undefined);
    await Promise.all(members.map((m) => m.disconnect().catch(() => undefined)));
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    broker.kill();
    await broker.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
