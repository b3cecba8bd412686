/**
 * Debian's kcat in balanced consumer mode (-G: librdkafka 2.0's high-level consumer, JoinGroup v5,
 * SyncGroup v3, OffsetCommit v7, OffsetFetch v7 as it negotiates them): two members split a
 * four-partition topic; one is kill -9'd, and the other takes its partitions over after the session
 * timeout, from the committed offsets, and reads what is produced afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../../helpers/wait.js';
import { hasProgram, startKafkaWarren, type KafkaWarren } from './harness.js';

const KCAT = '/usr/bin/kcat';
const skip = hasProgram(KCAT) ? false : 'kcat is not installed (Debian package kcat)';
const TOPIC = 'groups-kcat';
const GROUP = 'kcat-group';

let warren: KafkaWarren;
before(async () => {
  if (skip === false) warren = await startKafkaWarren();
});
after(async () => {
  await warren?.close();
});

interface Member {
  child: ChildProcess;
  /** partition -> offsets read, in order. */
  read: Map<number, number[]>;
  values: Set<string>;
  exited: Promise<void>;
}

function member(name: string): Member {
  const child = spawn(
    KCAT,
    [
      '-b', warren.bootstrap, '-G', GROUP, TOPIC, '-u', '-q', '-f', '%p %o %s\\n',
      '-X', `client.id=${name}`, '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=2000',
      '-X', 'heartbeat.interval.ms=200', '-X', 'auto.commit.interval.ms=100', '-X', 'topic.metadata.refresh.interval.ms=1000',
      '-X', 'fetch.wait.max.ms=100',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const m: Member = { child, read: new Map(), values: new Set(), exited: new Promise((resolve) => child.on('exit', () => resolve())) };
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const [partition, offset, value] = line.split(' ');
      if (value === undefined) continue;
      m.read.set(Number(partition), [...(m.read.get(Number(partition)) ?? []), Number(offset)]);
      m.values.add(value);
    }
  });
  child.stderr!.on('data', () => undefined);
  return m;
}

test('two kcat -G members split the partitions; one is kill -9\'d and the other resumes its partitions at the commits', { skip, timeout: 60_000 }, async () => {
  const kafka = new Kafka({ clientId: 'kcat-test', brokers: [warren.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 4 }] });
  const producer = kafka.producer();
  await producer.connect();
  const send = async (from: number, to: number): Promise<void> => {
    for (let p = 0; p < 4; p++) {
      const messages = Array.from({ length: to - from }, (_, i) => ({ partition: p, value: `${p}-${from + i}` }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
  };
  await send(0, 50);
  const a = member('kcat-a');
  const b = member('kcat-b');
  try {
    const owners = async (): Promise<Map<string, number[]> | undefined> => {
      const group = (await admin.describeGroups([GROUP])).groups[0];
      if (group?.state !== 'Stable') return undefined;
      return new Map(group.members.map((m) => [m.clientId, [...(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[TOPIC] ?? [])].sort()]));
    };
    let split: Map<string, number[]> | undefined;
    await waitFor(async () => {
      split = await owners();
      return split?.size === 2 && [...split.values()].every((ps) => ps.length === 2);
    }, 'two kcat members with two partitions each', 30_000);
    const all = () => new Set([...a.values, ...b.values]);
    await waitFor(() => all().size === 200, 'the first 200 messages');
    const committedNow = async (): Promise<number[]> => {
      const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      return offsets!.partitions.sort((x, y) => x.partition - y.partition).map((p) => Number(p.offset));
    };
    await waitFor(async () => (await committedNow()).every((o) => o === 50), 'librdkafka to commit 50 on each partition');

    // a is killed; what it held goes to b, starting at a's commits (50), and b reads what comes next.
    const aPartitions = split!.get('kcat-a')!;
    // b may have held a's partitions for a moment before the split settled: only what it reads from now counts.
    const readBefore = new Map(aPartitions.map((p) => [p, (b.read.get(p) ?? []).length]));
    a.child.kill('SIGKILL');
    await a.exited;
    await waitFor(async () => (await owners())?.get('kcat-b')?.length === 4, 'b to own all four partitions', 30_000);
    await send(50, 60);
    await waitFor(() => [0, 1, 2, 3].every((p) => (b.read.get(p) ?? []).includes(59)), 'b to read offset 59 everywhere', 30_000);
    for (const p of aPartitions) assert.deepEqual(b.read.get(p)!.slice(readBefore.get(p)), [50, 51, 52, 53, 54, 55, 56, 57, 58, 59], `partition ${p} resumed at the commit`);
  } finally {
    for (const m of [a, b]) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all([a.exited, b.exited]);
    await producer.disconnect();
    await admin.disconnect();
  }
});
