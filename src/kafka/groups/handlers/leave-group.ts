/**
 * LeaveGroup (key 13), v0-v5. v0-v2: one member id; v1: + throttle_time_ms; v3 (KIP-345): a batch of
 * members, by member id and/or group instance id, each answered; v4: flexible; v5: + reason per member.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import { groupsOf, mayUseGroups } from '../part.js';
import type { LeaveResult, LeavingMember } from '../types.js';
import { code } from '../wire.js';

export function decodeLeaveGroup(r: Reader, version: number): { groupId: string; members: LeavingMember[] } {
  const groupId = r.string();
  let members: LeavingMember[];
  if (version >= 3) {
    members = r.array((e) => {
      const memberId = e.string();
      const groupInstanceId = e.nullableString();
      if (version >= 5) e.nullableString(); // reason
      e.taggedFields();
      return { memberId, groupInstanceId: groupInstanceId ?? undefined };
    });
  } else {
    members = [{ memberId: r.string() }];
  }
  r.taggedFields();
  return { groupId, members };
}

export function writeLeaveGroup(w: Writer, version: number, result: LeaveResult): void {
  if (version >= 1) w.int32(0);
  if (version >= 3) {
    w.int16(code(result.error));
    w.array(result.members, (e, member) => {
      e.string(member.memberId).nullableString(member.groupInstanceId ?? null).int16(code(member.error));
      e.taggedFields();
    });
  } else {
    // One member: its error is the answer.
    w.int16(code(result.error !== 'NONE' ? result.error : (result.members[0]?.error ?? 'NONE')));
  }
  w.taggedFields();
}

export const leaveGroup: KafkaApi = {
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const { groupId, members } = decodeLeaveGroup(request.body, version);
    const result: LeaveResult = mayUseGroups(session)
      ? groupsOf(session).coordinator.leave(groupId, members)
      : { error: 'GROUP_AUTHORIZATION_FAILED', members: members.map((m) => ({ ...m, error: 'GROUP_AUTHORIZATION_FAILED' })) };
    return (w) => writeLeaveGroup(w, version, result);
  },
};
