/**
 * Consumer groups with kafkajs (JoinGroup v0-v5, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, FindCoordinator, DescribeGroups, ListGroups as kafkajs negotiates them):
 * - three members split a six-partition topic; one leaves and the two others take its partitions;
 * - a member in a child process is kill -9'd: the survivor takes its partitions over from the offsets
 *   it committed (nothing committed is read again, nothing is skipped);
 * - committed offsets survive a client restart and a broker restart, and an AMQP stream consumer
 *   named like the group resumes from them.
 * This file is also the child's program (WARREN_KAFKA_GROUP_CHILD set).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { AssignerProtocol, Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';
import { sleep, waitFor } from '../../helpers/wait.js';
import { startKafkaWarren, type KafkaWarren } from './harness.js';

const CHILD = process.env['WARREN_KAFKA_GROUP_CHILD'];

function kafkaAt(bootstrap: string, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
}

function groupConsumer(kafka: Kafka, groupId: string, sessionTimeout = 6000): Consumer {
  return kafka.consumer({ groupId, sessionTimeout, heartbeatInterval: 200, rebalanceTimeout: 10_000, maxWaitTimeInMs: 200, retry: { retries: 30, initialRetryTime: 100 } });
}

/** The child: one member that prints every message it handled and every commit, until it is killed. */
async function runChild(spec: string): Promise<void> {
  const [bootstrap, topic, groupId] = spec.split(',') as [string, string, string];
  const consumer = groupConsumer(kafkaAt(bootstrap, 'child'), groupId, 2000);
  consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
    for (const t of event.payload.topics) for (const p of t.partitions) process.stdout.write(`commit ${p.partition} ${p.offset}\n`);
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      process.stdout.write(`msg ${partition} ${message.offset} ${message.value?.toString()}\n`);
      await sleep(4); // slow enough to be killed halfway through its partitions
    },
  });
}

if (CHILD !== undefined) {
  void runChild(CHILD);
} else {
  defineTests();
}

async function produce(producer: Producer, topic: string, values: string[], partition?: number): Promise<void> {
  for (let i = 0; i < values.length; i += 100) {
    const messages = values.slice(i, i + 100).map((value) => ({ key: `k${value}`, value, ...(partition === undefined ? {} : { partition }) }));
    await producer.send({ topic, acks: -1, messages });
  }
}

const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => String(from + i));

function defineTests(): void {
  let warren: KafkaWarren;
  before(async () => {
    warren = await startKafkaWarren();
  });
  after(async () => {
    await warren.close();
  });

  /** The group's members and their partitions, once it is Stable. */
  async function assignments(kafka: Kafka, groupId: string, topic: string): Promise<Map<string, number[]> | undefined> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      if (group === undefined || group.state !== 'Stable') return undefined;
      const owned = new Map<string, number[]>();
      for (const member of group.members) {
        const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
        owned.set(member.memberId, [...(decoded?.assignment[topic] ?? [])].sort((a, b) => a - b));
      }
      return owned;
    } finally {
      await admin.disconnect();
    }
  }

  async function waitForSplit(kafka: Kafka, groupId: string, topic: string, members: number, partitions: number): Promise<Map<string, number[]>> {
    let last: Map<string, number[]> | undefined;
    await waitFor(async () => {
      last = await assignments(kafka, groupId, topic);
      if (last === undefined || last.size !== members) return false;
      const all = [...last.values()].flat().sort((a, b) => a - b);
      return [...last.values()].every((ps) => ps.length > 0) && all.join() === range(0, partitions).join();
    }, `${members} members splitting ${partitions} partitions`, 30_000);
    return last!;
  }

  async function committed(kafka: Kafka, groupId: string, topic: string): Promise<number[]> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return offsets!.partitions.sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
    } finally {
      await admin.disconnect();
    }
  }

  test('three kafkajs members split six partitions; one leaves, the other two take over, nothing lost', { timeout: 60_000 }, async () => {
    const kafka = kafkaAt(warren.bootstrap, 'split');
    const topic = 'groups-split';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();
    await produce(producer, topic, range(0, 600));

    const seen = new Map<string, number>();
    const consumers = ['a', 'b', 'c'].map(() => groupConsumer(kafka, 'split-group'));
    for (const consumer of consumers) {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void seen.set(message.value!.toString(), (seen.get(message.value!.toString()) ?? 0) + 1) });
    }
    await waitForSplit(kafka, 'split-group', topic, 3, 6);
    await waitFor(() => seen.size === 600, 'the first 600 messages');

    const listed = await admin.listGroups();
    assert.ok(listed.groups.some((g) => g.groupId === 'split-group' && g.protocolType === 'consumer'));

    await consumers[2]!.disconnect(); // LeaveGroup
    const two = await waitForSplit(kafka, 'split-group', topic, 2, 6);
    assert.deepEqual([...two.values()].map((ps) => ps.length).sort(), [3, 3], 'the range assignor gives each of two members three');
    await produce(producer, topic, range(600, 900));
    await waitFor(() => seen.size === 900, 'all 900 messages');
    assert.deepEqual(range(0, 900).filter((v) => !seen.has(v)), [], 'nothing lost');

    // Every partition's committed offset reaches its end (kafkajs commits after each batch).
    const ends = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high));
    await waitFor(async () => (await committed(kafka, 'split-group', topic)).join() === ends.join(), 'the commits to reach the ends');
    for (const consumer of consumers.slice(0, 2)) await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  test('a member killed with kill -9 is dropped after its session; the survivor resumes its partitions at the commits', { timeout: 60_000 }, async () => {
    const kafka = kafkaAt(warren.bootstrap, 'survivor');
    const topic = 'groups-kill';
    const groupId = 'kill-group';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();

    // Both members join before anything is produced, so that each has work on its partitions whatever
    // the machine's speed; the child is the slower one.
    const seenBySurvivor = new Map<number, number[]>();
    const survivor = groupConsumer(kafka, groupId);
    await survivor.connect();
    await survivor.subscribe({ topics: [topic], fromBeginning: true });
    const values = new Set<string>();
    await survivor.run({
      eachMessage: async ({ partition, message }) => {
        values.add(message.value!.toString());
        seenBySurvivor.set(partition, [...(seenBySurvivor.get(partition) ?? []), Number(message.offset)]);
        await sleep(1);
      },
    });

    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, WARREN_KAFKA_GROUP_CHILD: `${warren.bootstrap},${topic},${groupId}` },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const childCommits = new Map<number, number>();
    const childValues = new Set<string>();
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const [kind, partition, offset, value] = line.split(' ');
        if (kind === 'msg') childValues.add(value!);
        if (kind === 'commit') childCommits.set(Number(partition), Math.max(childCommits.get(Number(partition)) ?? 0, Number(offset)));
      }
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      const split = await waitForSplit(kafka, groupId, topic, 2, 4);
      await produce(producer, topic, range(0, 1000));
      const survivorId = [...split.keys()].find((id) => id.startsWith('survivor'))!;
      const childPartitions = [...split].filter(([id]) => id !== survivorId).flatMap(([, ps]) => ps);
      await waitFor(() => childPartitions.some((p) => (childCommits.get(p) ?? 0) > 0) && childValues.size < 400, 'the child to commit part of its work');
      child.kill('SIGKILL');
      await exited;
      const commitsAtKill = new Map(childCommits);
      const startAfterKill = new Map(childPartitions.map((p) => [p, seenBySurvivor.get(p)?.length ?? 0]));

      await waitForSplit(kafka, groupId, topic, 1, 4);
      await produce(producer, topic, range(1000, 1100));
      await waitFor(() => range(0, 1100).every((v) => values.has(v) || childValues.has(v)), 'every message handled by one of them', 30_000);

      for (const p of childPartitions) {
        const taken = (seenBySurvivor.get(p) ?? []).slice(startAfterKill.get(p));
        const first = taken[0];
        assert.ok(first !== undefined, `the survivor read partition ${p}`);
        // Resumed at the child's last commit (or a later one whose print the kill cut off): nothing the
        // child committed is read again, and (with the coverage above) nothing after it was skipped.
        assert.ok(first >= (commitsAtKill.get(p) ?? 0), `partition ${p}: resumed at ${first}, the child had committed ${commitsAtKill.get(p)}`);
      }
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await survivor.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    }
  });

  test('committed offsets survive a client restart and a broker restart; an AMQP consumer named like the group resumes there', { timeout: 60_000 }, async () => {
    const topic = 'groups-restart';
    const groupId = 'restart-group';
    let kafka = kafkaAt(warren.bootstrap, 'restart');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    let producer = kafka.producer();
    await producer.connect();
    for (const p of [0, 1]) await produce(producer, topic, range(p * 1000, p * 1000 + 50), p);

    /** Runs one consumer of the group until it has read `count` messages and committed them; returns their offsets. */
    const consumeOnce = async (count: number, ends: number[]): Promise<Array<[number, number]>> => {
      const got: Array<[number, number]> = [];
      const consumer = groupConsumer(kafka, groupId);
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ partition, message }) => void got.push([partition, Number(message.offset)]) });
      await waitFor(() => got.length >= count, `${count} messages`);
      await waitFor(async () => (await committed(kafka, groupId, topic)).join() === ends.join(), `commits at ${ends.join()}`);
      await consumer.disconnect();
      return got.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    };
    const offsets = (p: number, from: number, to: number): Array<[number, number]> => Array.from({ length: to - from }, (_, i) => [p, from + i]);

    assert.equal((await consumeOnce(100, [50, 50])).length, 100);
    for (const p of [0, 1]) await produce(producer, topic, range(p * 1000 + 50, p * 1000 + 60), p);
    // A new client of the group (fromBeginning notwithstanding) starts at the commits.
    assert.deepEqual(await consumeOnce(20, [60, 60]), [...offsets(0, 50, 60), ...offsets(1, 50, 60)]);
    await producer.disconnect();

    // The broker restarts on its data dir (a new port): the commits are still there.
    await warren.stop();
    warren = await startKafkaWarren({ dataDir: warren.dataDir });
    kafka = kafkaAt(warren.bootstrap, 'restart');
    assert.deepEqual(await committed(kafka, groupId, topic), [60, 60], 'committed offsets after a broker restart');
    producer = kafka.producer();
    await producer.connect();
    for (const p of [0, 1]) await produce(producer, topic, range(p * 1000 + 60, p * 1000 + 65), p);
    assert.deepEqual(await consumeOnce(10, [65, 65]), [...offsets(0, 60, 65), ...offsets(1, 60, 65)]);
    await produce(producer, topic, ['after-kafka'], 0);
    await producer.disconnect();

    // AMQP: partition 0's stream, consumed under the group's name, starts after the group's commit.
    const connection = await amqp.connect(warren.url);
    try {
      const channel = await connection.createChannel();
      await channel.prefetch(10);
      const first = await new Promise<{ offset: number; body: string }>((resolve) => {
        void channel.consume(`${topic}-0`, (m) => m && resolve({ offset: Number(m.properties.headers?.['x-stream-offset']), body: m.content.toString() }), {
          arguments: { 'x-stream-consumer-name': groupId },
        });
      });
      assert.deepEqual(first, { offset: 65, body: 'after-kafka' });
    } finally {
      await connection.close();
    }
  });
}
