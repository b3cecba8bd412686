/**
 * ListGroups (key 16), v0-v4: the groups this broker coordinates. v1: + throttle_time_ms; v3: flexible;
 * v4 (KIP-518): + states_filter, and each group's state.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../../api.js';
import type { Reader } from '../../protocol/reader.js';
import type { Writer } from '../../protocol/writer.js';
import type { KafkaSession } from '../../session.js';
import type { GroupErrorName } from '../errors.js';
import { groupsOf, mayUseGroups } from '../part.js';
import { GROUP_STATES, type GroupListing, type GroupState } from '../types.js';
import { code } from '../wire.js';

export function decodeListGroups(r: Reader, version: number): GroupState[] {
  const states = version >= 4 ? r.array((e) => e.string()) : [];
  r.taggedFields();
  // Kafka compares state names without case; an unknown one matches nothing.
  return states.map((s) => GROUP_STATES.find((known) => known.toLowerCase() === s.toLowerCase()) ?? ('?' as GroupState));
}

export function writeListGroups(w: Writer, version: number, error: GroupErrorName, groups: readonly GroupListing[]): void {
  if (version >= 1) w.int32(0);
  w.int16(code(error));
  w.array(groups, (e, group) => {
    e.string(group.groupId).string(group.protocolType);
    if (version >= 4) e.string(group.state);
    e.taggedFields();
  });
  w.taggedFields();
}

export const listGroups: KafkaApi = {
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const version = request.header.apiVersion;
    const states = decodeListGroups(request.body, version);
    const allowed = mayUseGroups(session);
    const groups = allowed ? groupsOf(session).coordinator.list(states) : [];
    return (w) => writeListGroups(w, version, allowed ? 'NONE' : 'GROUP_AUTHORIZATION_FAILED', groups);
  },
};
