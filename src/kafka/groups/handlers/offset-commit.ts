/**
 * OffsetCommit (key 8), v0-v8: a group's offsets, stored in the partitions' logs under the group id and
 * answered once durable (offsets.ts). v1: + generation_id, member_id, and a commit timestamp per
 * partition (ignored); v2-v4: + retention_time_ms (ignored: committed offsets stay until the topic goes);
 * v3: + throttle_time_ms; v6: + committed_leader_epoch (ignored: one replica); v7: + group_instance_id;
 * v8: flexible. The coordinator decides whether this member may commit now (Group.checkCommit); each
 * partition needs read permission on its stream queue.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import type { OffsetCommitEntry } from '../offsets.js';
import { groupsOf, mayReadPartition, mayUseGroups } from '../part.js';
import { doorTopics } from '../topic-offsets.js';
import type { MemberGeneration } from '../types.js';
import { code } from '../wire.js';

export interface OffsetCommitRequest extends MemberGeneration {
  readonly entries: readonly OffsetCommitEntry[];
}

export function decodeOffsetCommit(r: Reader, version: number): OffsetCommitRequest {
  const groupId = r.string();
  const generationId = version >= 1 ? r.int32() : -1;
  const memberId = version >= 1 ? r.string() : '';
  if (version >= 2 && version <= 4) r.int64(); // retention_time_ms
  const groupInstanceId = version >= 7 ? r.nullableString() : null;
  const entries: OffsetCommitEntry[] = [];
  r.array((t) => {
    const topic = t.string();
    t.array((p) => {
      const partition = p.int32();
      const offset = p.int64Number();
      if (version >= 6) p.int32(); // committed_leader_epoch
      if (version === 1) p.int64(); // commit_timestamp
      const metadata = p.nullableString();
      p.taggedFields();
      entries.push({ topic, partition, offset, metadata });
    });
    t.taggedFields();
  });
  r.taggedFields();
  return { groupId, generationId, memberId, groupInstanceId: groupInstanceId ?? undefined, entries };
}

/** Answers per topic and partition, in the order of the request (entries and errors side by side). */
export function writeOffsetCommit(w: Writer, version: number, entries: readonly OffsetCommitEntry[], errors: readonly GroupErrorName[]): void {
  if (version >= 3) w.int32(0);
  const topics = new Map<string, Array<{ partition: number; error: GroupErrorName }>>();
  entries.forEach((entry, i) => {
    const list = topics.get(entry.topic) ?? [];
    list.push({ partition: entry.partition, error: errors[i] ?? 'UNKNOWN_SERVER_ERROR' });
    topics.set(entry.topic, list);
  });
  w.array([...topics], (t, [topic, partitions]) => {
    t.string(topic);
    t.array(partitions, (p, { partition, error }) => {
      p.int32(partition).int16(code(error));
      p.taggedFields();
    });
    t.taggedFields();
  });
  w.taggedFields();
}

export const offsetCommit: KafkaApi = {
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 8,
  flexibleFrom: 8,
  async handle(session: KafkaSession, request: KafkaRequest): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const commit = decodeOffsetCommit(request.body, version);
    const errors = await commitOffsets(session, commit);
    return (w) => writeOffsetCommit(w, version, commit.entries, errors);
  },
};

async function commitOffsets(session: KafkaSession, commit: OffsetCommitRequest): Promise<GroupErrorName[]> {
  const everyone = (error: GroupErrorName): GroupErrorName[] => commit.entries.map(() => error);
  if (!mayUseGroups(session)) return everyone('GROUP_AUTHORIZATION_FAILED');
  const { coordinator, offsets } = groupsOf(session);
  const allowed = coordinator.checkCommit(commit);
  if (allowed !== 'NONE') return everyone(allowed);
  const topics = doorTopics(session);
  const errors: GroupErrorName[] = commit.entries.map((entry) => {
    const queue = topics.queueOf(entry.topic, entry.partition);
    return queue !== undefined && !mayReadPartition(session, queue) ? 'TOPIC_AUTHORIZATION_FAILED' : 'NONE';
  });
  const permitted = commit.entries.filter((_, i) => errors[i] === 'NONE');
  const results = await offsets.commit(topics, commit.groupId, permitted);
  let next = 0;
  return errors.map((error) => (error === 'NONE' ? results[next++]! : error));
}
