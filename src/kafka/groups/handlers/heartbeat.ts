/**
 * Heartbeat (key 12), v0-v4: keeps a member's session; REBALANCE_IN_PROGRESS tells it to join again.
 * v1: + throttle_time_ms; v3: + group_instance_id; v4: flexible.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import { groupsOf, mayUseGroups } from '../part.js';
import type { MemberGeneration } from '../types.js';
import { code } from '../wire.js';

export function decodeMemberGeneration(r: Reader, version: number, instanceFrom: number): MemberGeneration {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  const groupInstanceId = version >= instanceFrom ? r.nullableString() : null;
  return { groupId, generationId, memberId, groupInstanceId: groupInstanceId ?? undefined };
}

export function writeHeartbeat(w: Writer, version: number, error: GroupErrorName): void {
  if (version >= 1) w.int32(0);
  w.int16(code(error));
  w.taggedFields();
}

export const heartbeat: KafkaApi = {
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const beat = decodeMemberGeneration(request.body, version, 3);
    request.body.taggedFields();
    const error = mayUseGroups(session) ? groupsOf(session).coordinator.heartbeat(beat) : 'GROUP_AUTHORIZATION_FAILED';
    return (w) => writeHeartbeat(w, version, error);
  },
};
