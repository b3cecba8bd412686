/**
 * kafka-python 2.0's KafkaConsumer with a group_id (Debian's python3-kafka: JoinGroup v2, SyncGroup
 * v1, Heartbeat v1, LeaveGroup v1, OffsetCommit v2, OffsetFetch v1, GroupCoordinator v0 as it guesses
 * them from the advertised APIs): two members split four partitions; one closes (LeaveGroup) and the
 * other takes its partitions at its commits; after both stop, a new member (a client restart) resumes
 * every partition at the commits.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { waitFor } from '../../helpers/wait.js';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/integration/kafka/python/groups_member.py');
const TOPIC = 'groups-python';
const GROUP = 'python-group';

let warren: KafkaWarren;
let skip: string | false = false;
before(async () => {
  if (!hasProgram(PYTHON)) skip = '/usr/bin/python3 is not installed';
  else if ((await run(PYTHON, ['-c', 'import kafka'])).code !== 0) skip = 'kafka-python is not installed (Debian package python3-kafka)';
  if (skip === false) warren = await startKafkaWarren();
});
after(async () => {
  await warren?.close();
});

interface PythonMember {
  child: ChildProcess;
  assigned: number[][];
  read: Map<number, number[]>;
  exited: Promise<void>;
}

function member(clientId: string): PythonMember {
  const child = spawn(PYTHON, [SCRIPT, warren.bootstrap, TOPIC, GROUP, clientId], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m: PythonMember = { child, assigned: [], read: new Map(), exited: new Promise((resolve) => child.on('exit', () => resolve())) };
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'assigned') m.assigned.push(a === undefined || a === '' ? [] : a.split(',').map(Number));
      if (kind === 'msg') m.read.set(Number(a), [...(m.read.get(Number(a)) ?? []), Number(b)]);
    }
  });
  child.stderr!.on('data', () => undefined);
  return m;
}

const upTo = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

test('kafka-python members split, one leaves, and a restarted member resumes at the commits', { timeout: 60_000 }, async (t) => {
  if (skip !== false) return t.skip(skip);
  const kafka = new Kafka({ clientId: 'py-groups', brokers: [warren.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 4 }] });
  const producer = kafka.producer();
  await producer.connect();
  const send = async (from: number, to: number): Promise<void> => {
    for (let p = 0; p < 4; p++) await producer.send({ topic: TOPIC, acks: -1, messages: upTo(from, to).map((i) => ({ partition: p, value: `${p}-${i}` })) });
  };
  const committed = async (): Promise<number[]> => {
    const [offsets] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    return offsets!.partitions.sort((x, y) => x.partition - y.partition).map((p) => Number(p.offset));
  };
  await send(0, 50);
  const members = [member('py-a'), member('py-b')];
  const [a, b] = members as [PythonMember, PythonMember];
  try {
    await waitFor(() => {
      const last = [a.assigned.at(-1) ?? [], b.assigned.at(-1) ?? []];
      return last.every((ps) => ps.length === 2) && [...last[0]!, ...last[1]!].sort().join() === '0,1,2,3';
    }, 'two members with two partitions each', 30_000);
    const described = (await admin.describeGroups([GROUP])).groups[0]!;
    assert.deepEqual(described.members.map((m) => m.clientId).sort(), ['py-a', 'py-b']);
    await waitFor(async () => (await committed()).join() === '50,50,50,50', 'commits at 50 everywhere', 30_000);

    // b closes: LeaveGroup; a gets all four and continues b's partitions at 50.
    const bPartitions = b.assigned.at(-1)!;
    b.child.kill('SIGTERM');
    await b.exited;
    await waitFor(() => a.assigned.at(-1)?.length === 4, 'a to get all four partitions', 30_000);
    await send(50, 60);
    await waitFor(async () => (await committed()).join() === '60,60,60,60', 'commits at 60 everywhere', 30_000);
    for (const p of bPartitions) assert.deepEqual(a.read.get(p)?.slice(-10), upTo(50, 60), `a continued partition ${p} at b's commit`);
    a.child.kill('SIGTERM');
    await a.exited;

    // A new client of the group starts at the commits, not at the beginning.
    await send(60, 65);
    const c = member('py-c');
    members.push(c);
    await waitFor(async () => (await committed()).join() === '65,65,65,65', 'the restarted member to commit 65 everywhere', 30_000);
    for (const p of [0, 1, 2, 3]) assert.deepEqual(c.read.get(p), upTo(60, 65), `partition ${p} resumed at 60`);
  } finally {
    for (const m of members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(members.map((m) => m.exited));
    await producer.disconnect();
    await admin.disconnect();
  }
});
