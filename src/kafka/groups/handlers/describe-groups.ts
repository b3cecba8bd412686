/**
 * DescribeGroups (key 15), v0-v5: state, protocol and members of each group (a group not known here is
 * Dead, with no error, as in Kafka); metadata and assignments only while Stable. v1: +
 * throttle_time_ms; v3: + include_authorized_operations / authorized_operations (not computed:
 * INT32_MIN, "not provided"); v4: + group_instance_id per member; v5: flexible.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import { groupsOf, mayUseGroups } from '../part.js';
import type { GroupDescription } from '../types.js';
import { code } from '../wire.js';

const NOT_PROVIDED = -2147483648;

export function decodeDescribeGroups(r: Reader, version: number): string[] {
  const groups = r.array((e) => e.string());
  if (version >= 3) r.boolean(); // include_authorized_operations
  r.taggedFields();
  return groups;
}

export function writeDescribeGroups(w: Writer, version: number, groups: ReadonlyArray<{ error: GroupErrorName; group: GroupDescription }>): void {
  if (version >= 1) w.int32(0);
  w.array(groups, (g, { error, group }) => {
    g.int16(code(error)).string(group.groupId).string(group.state).string(group.protocolType).string(group.protocolName);
    g.array(group.members, (m, member) => {
      m.string(member.memberId);
      if (version >= 4) m.nullableString(member.groupInstanceId ?? null);
      m.string(member.clientId).string(member.clientHost).bytes(member.metadata).bytes(member.assignment);
      m.taggedFields();
    });
    if (version >= 3) g.int32(NOT_PROVIDED);
    g.taggedFields();
  });
  w.taggedFields();
}

export const describeGroups: KafkaApi = {
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 5,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const ids = decodeDescribeGroups(request.body, version);
    const allowed = mayUseGroups(session);
    const { coordinator } = groupsOf(session);
    const groups = ids.map((id) =>
      allowed
        ? { error: 'NONE' as const, group: coordinator.describe(id) }
        : { error: 'GROUP_AUTHORIZATION_FAILED' as const, group: { ...coordinator.describe(''), groupId: id } },
    );
    return (w) => writeDescribeGroups(w, version, groups);
  },
};
