/**
 * JoinGroup (key 11), v0-v9. The answer waits until the rebalance completes (the coordinator calls
 * back). v1: + rebalance_timeout_ms (v0 uses the session timeout for both); v2: + throttle_time_ms in the
 * response; v4: a first join gets MEMBER_ID_REQUIRED with its id (KIP-394); v5: + group_instance_id
 * (KIP-345) in the request and in each member of the response; v6: flexible; v7: + protocol_type in
 * the response, protocol_name nullable; v8: + reason (logged nowhere); v9: + skip_assignment (KIP-814).
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import { groupsOf, mayUseGroups } from '../part.js';
import type { JoinRequest, JoinResult } from '../types.js';
import { code, kept } from '../wire.js';

export function decodeJoinGroup(r: Reader, version: number, clientId: string, clientHost: string): JoinRequest {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = version >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = version >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  const protocols = r.array((e) => {
    const name = e.string();
    const metadata = kept(e.bytes());
    e.taggedFields();
    return { name, metadata };
  });
  if (version >= 8) r.nullableString(); // reason
  r.taggedFields();
  return {
    groupId,
    memberId,
    groupInstanceId: groupInstanceId ?? undefined,
    clientId,
    clientHost,
    sessionTimeoutMs,
    rebalanceTimeoutMs,
    protocolType,
    protocols,
    requireKnownMemberId: version >= 4,
  };
}

export function writeJoinGroup(w: Writer, version: number, result: JoinResult): void {
  if (version >= 2) w.int32(0);
  w.int16(code(result.error)).int32(result.generationId);
  if (version >= 7) w.nullableString(result.protocolType ?? null).nullableString(result.protocolName ?? null);
  else w.string(result.protocolName ?? '');
  w.string(result.leaderId);
  if (version >= 9) w.boolean(result.skipAssignment);
  w.string(result.memberId);
  w.array(result.members, (e, member) => {
    e.string(member.memberId);
    if (version >= 5) e.nullableString(member.groupInstanceId ?? null);
    e.bytes(member.metadata);
    e.taggedFields();
  });
  w.taggedFields();
}

export const joinGroup: KafkaApi = {
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  async handle(session: KafkaSession, request: KafkaRequest): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const join = decodeJoinGroup(request.body, version, request.header.clientId ?? '', `/${session.remoteAddress}`);
    const result = mayUseGroups(session)
      ? await new Promise<JoinResult>((resolve) => groupsOf(session).coordinator.join(join, resolve))
      : refused(join.memberId);
    return (w) => writeJoinGroup(w, version, result);
  },
};

function refused(memberId: string): JoinResult {
  return { error: 'GROUP_AUTHORIZATION_FAILED', generationId: -1, protocolType: undefined, protocolName: undefined, leaderId: '', memberId, members: [], skipAssignment: false };
}
