/**
 * @platformatic/kafka 1.x consumer groups: it takes the newest version it implements within the
 * advertised ranges, so this drives the flexible ones (FindCoordinator v4, JoinGroup v9 with
 * MEMBER_ID_REQUIRED, SyncGroup v5, Heartbeat v4, LeaveGroup v5, OffsetCommit v8, OffsetFetch v8,
 * DescribeGroups v5, ListGroups v4): two members split three partitions, one closes and the other takes
 * its partitions, and the admin client sees the group and its committed offsets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { waitFor } from '../../helpers/wait.js';
import { startKafkaWarren, type KafkaWarren } from './harness.js';

const TOPIC = 'groups-pk';
const GROUP = 'pk-group';

let warren: KafkaWarren;
const clients: Array<{ close(): Promise<void> }> = [];
before(async () => {
  warren = await startKafkaWarren();
});
after(async () => {
  for (const client of clients.reverse()) await client.close().catch(() => undefined);
  await warren.close();
});

test('@platformatic/kafka members split partitions with the flexible group versions; one closes, the other takes over', { timeout: 60_000 }, async () => {
  const admin = new Admin({ clientId: 'pk-groups-admin', bootstrapBrokers: [warren.bootstrap] });
  clients.push(admin);
  await admin.createTopics({ topics: [TOPIC], partitions: 3, replicas: 1 });
  const producer = new Producer({ clientId: 'pk-groups-producer', bootstrapBrokers: [warren.bootstrap], serializers: stringSerializers });
  clients.push(producer);
  const send = async (from: number, to: number): Promise<void> => {
    for (let p = 0; p < 3; p++) {
      await producer.send({ messages: Array.from({ length: to - from }, (_, i) => ({ topic: TOPIC, partition: p, key: 'k', value: `${p}-${from + i}` })) });
    }
  };
  await send(0, 20);

  const seen = new Set<string>();
  const member = async (clientId: string): Promise<{ consumer: Consumer<string, string, string, string>; stop(): Promise<void> }> => {
    const consumer = new Consumer({ clientId, groupId: GROUP, bootstrapBrokers: [warren.bootstrap], deserializers: stringDeserializers, sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10_000 });
    clients.push(consumer);
    const stream = await consumer.consume({ topics: [TOPIC], mode: MessagesStreamModes.COMMITTED, fallbackMode: 'earliest', autocommit: 100, maxWaitTime: 200 });
    stream.on('data', (message) => void seen.add(message.value));
    stream.on('error', () => undefined);
    clients.push(stream);
    return {
      consumer,
      stop: async () => {
        await stream.close();
        await consumer.close();
      },
    };
  };
  const { consumer: a } = await member('pk-a');
  const { consumer: b, stop: stopB } = await member('pk-b');
  const owned = (c: Consumer<string, string, string, string>): number[] => (c.assignments ?? []).flatMap((x) => [...x.partitions]).sort();
  await waitFor(() => owned(a).length + owned(b).length === 3 && owned(a).length > 0 && owned(b).length > 0, 'two members splitting three partitions', 30_000);
  await waitFor(() => seen.size === 60, 'the first 60 messages');

  const groups = await admin.listGroups();
  assert.equal(groups.get(GROUP)?.protocolType, 'consumer');
  const described = (await admin.describeGroups({ groups: [GROUP] })).get(GROUP)!;
  assert.equal(described.state, 'STABLE');
  assert.deepEqual([...described.members.values()].map((m) => m.clientId).sort(), ['pk-a', 'pk-b']);

  await stopB(); // LeaveGroup v5
  await waitFor(() => owned(a).join() === '0,1,2', 'a to own every partition', 30_000);
  await send(20, 30);
  await waitFor(() => seen.size === 90, 'all 90 messages');
  const committed = async (): Promise<string> => {
    const [offsets] = await admin.listConsumerGroupOffsets({ groups: [GROUP] });
    return (offsets?.topics.find((t) => t.name === TOPIC)?.partitions ?? [])
      .sort((x, y) => x.partitionIndex - y.partitionIndex)
      .map((p) => String(p.committedOffset))
      .join();
  };
  await waitFor(async () => (await committed()) === '30,30,30', 'commits at the ends', 30_000);
});
