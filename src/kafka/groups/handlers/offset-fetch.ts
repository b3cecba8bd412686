/**
 * OffsetFetch (key 9), v0-v8: a group's committed offsets (-1: none). v1 reads the same offsets as v0
 * (Kafka's v0 read ZooKeeper's; Warren has one store); v2: + a top-level error_code, and null topics =
 * every partition the group has an offset in; v3: + throttle_time_ms; v5: + committed_leader_epoch (-1);
 * v6: flexible; v7: + require_stable (no transactions, so always stable); v8 (KIP-709): many groups.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import type { CommittedOffset } from '../offsets.js';
import { groupsOf, mayReadPartition, mayUseGroups } from '../part.js';
import { doorTopics } from '../topic-offsets.js';
import { code } from '../wire.js';

export interface OffsetFetchGroup {
  readonly groupId: string;
  /** null: every partition with an offset. */
  readonly topics: ReadonlyArray<{ readonly name: string; readonly partitions: readonly number[] }> | null;
}

export interface FetchedGroup {
  readonly groupId: string;
  readonly error: GroupErrorName;
  readonly offsets: readonly CommittedOffset[];
}

function decodeTopics(r: Reader): OffsetFetchGroup['topics'] {
  const count = r.arrayLength();
  if (count < 0) return null;
  const topics: Array<{ name: string; partitions: number[] }> = [];
  for (let i = 0; i < count; i++) {
    const name = r.string();
    const partitions = r.array((e) => e.int32());
    r.taggedFields();
    topics.push({ name, partitions });
  }
  return topics;
}

export function decodeOffsetFetch(r: Reader, version: number): OffsetFetchGroup[] {
  let groups: OffsetFetchGroup[];
  if (version >= 8) {
    groups = r.array((g) => {
      const groupId = g.string();
      const topics = decodeTopics(g);
      g.taggedFields();
      return { groupId, topics };
    });
  } else {
    const groupId = r.string();
    groups = [{ groupId, topics: decodeTopics(r) }];
  }
  if (version >= 7) r.boolean(); // require_stable
  r.taggedFields();
  return groups;
}

function writeTopics(w: Writer, version: number, offsets: readonly CommittedOffset[]): void {
  const topics = new Map<string, CommittedOffset[]>();
  for (const offset of offsets) topics.set(offset.topic, [...(topics.get(offset.topic) ?? []), offset]);
  w.array([...topics], (t, [topic, partitions]) => {
    t.string(topic);
    t.array(partitions, (p, offset) => {
      p.int32(offset.partition).int64Number(offset.offset);
      if (version >= 5) p.int32(-1); // committed_leader_epoch
      p.nullableString(offset.metadata).int16(code(offset.error));
      p.taggedFields();
    });
    t.taggedFields();
  });
}

export function writeOffsetFetch(w: Writer, version: number, groups: readonly FetchedGroup[]): void {
  if (version >= 3) w.int32(0);
  if (version >= 8) {
    w.array(groups, (g, group) => {
      g.string(group.groupId);
      writeTopics(g, version, group.offsets);
      g.int16(code(group.error));
      g.taggedFields();
    });
  } else {
    const group = groups[0] ?? { groupId: '', error: 'NONE', offsets: [] };
    writeTopics(w, version, group.offsets);
    if (version >= 2) w.int16(code(group.error));
  }
  w.taggedFields();
}

export const offsetFetch: KafkaApi = {
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 8,
  flexibleFrom: 6,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const groups = decodeOffsetFetch(request.body, version).map((group) => fetchGroup(session, version, group));
    return (w) => writeOffsetFetch(w, version, groups);
  },
};

function fetchGroup(session: KafkaSession, version: number, group: OffsetFetchGroup): FetchedGroup {
  const topics = doorTopics(session);
  const { offsets } = groupsOf(session);
  const readable = (offset: CommittedOffset): boolean => {
    const queue = topics.queueOf(offset.topic, offset.partition);
    return queue === undefined || mayReadPartition(session, queue);
  };
  if (!mayUseGroups(session)) {
    // v0-v1 have no group-level error: every partition carries it.
    const each = (group.topics ?? []).flatMap((t) => t.partitions.map((partition) => refusedOffset(t.name, partition, 'GROUP_AUTHORIZATION_FAILED')));
    return { groupId: group.groupId, error: 'GROUP_AUTHORIZATION_FAILED', offsets: version >= 2 ? [] : each };
  }
  if (group.topics === null) return { groupId: group.groupId, error: 'NONE', offsets: offsets.fetchAll(topics, group.groupId).filter(readable) };
  const found = group.topics.flatMap((t) =>
    t.partitions.map((partition) => {
      const offset = offsets.fetch(topics, group.groupId, t.name, partition);
      return readable(offset) ? offset : refusedOffset(t.name, partition, 'TOPIC_AUTHORIZATION_FAILED');
    }),
  );
  return { groupId: group.groupId, error: 'NONE', offsets: found };
}

function refusedOffset(topic: string, partition: number, error: GroupErrorName): CommittedOffset {
  return { topic, partition, offset: -1, metadata: '', error };
}
