/**
 * SyncGroup (key 14), v0-v5: the leader sends the assignment, every member gets its part (the answer
 * waits for the leader's). v1: + throttle_time_ms; v3: + group_instance_id; v4: flexible; v5: +
 * protocol_type and protocol_name in request (checked) and response.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import { groupsOf, mayUseGroups } from '../part.js';
import type { SyncRequest, SyncResult } from '../types.js';
import { code, kept } from '../wire.js';

export function decodeSyncGroup(r: Reader, version: number): SyncRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  const groupInstanceId = version >= 3 ? r.nullableString() : null;
  const protocolType = version >= 5 ? r.nullableString() : null;
  const protocolName = version >= 5 ? r.nullableString() : null;
  const assignments = r.array((e) => {
    const id = e.string();
    const assignment = kept(e.bytes());
    e.taggedFields();
    return { memberId: id, assignment };
  });
  r.taggedFields();
  return {
    groupId,
    generationId,
    memberId,
    groupInstanceId: groupInstanceId ?? undefined,
    protocolType: protocolType ?? undefined,
    protocolName: protocolName ?? undefined,
    assignments,
  };
}

export function writeSyncGroup(w: Writer, version: number, result: SyncResult): void {
  if (version >= 1) w.int32(0);
  w.int16(code(result.error));
  if (version >= 5) w.nullableString(result.protocolType ?? null).nullableString(result.protocolName ?? null);
  w.bytes(result.assignment);
  w.taggedFields();
}

export const syncGroup: KafkaApi = {
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  async handle(session: KafkaSession, request: KafkaRequest): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const sync = decodeSyncGroup(request.body, version);
    const result: SyncResult = mayUseGroups(session)
      ? await new Promise<SyncResult>((resolve) => groupsOf(session).coordinator.sync(sync, resolve))
      : { error: 'GROUP_AUTHORIZATION_FAILED', protocolType: undefined, protocolName: undefined, assignment: Buffer.alloc(0) };
    return (w) => writeSyncGroup(w, version, result);
  },
};
