/**
 * Consumer group APIs (README "Kafka", "Consumer groups"): the coordinator (coordinator.ts, group.ts)
 * and committed offsets (offsets.ts) behind one handler per API. The door's API table (apis.ts) spreads this list.
 */
import type { KafkaApi } from '../api.js';
import { describeGroups } from './handlers/describe-groups.js';
import { findCoordinator } from './handlers/find-coordinator.js';
import { heartbeat } from './handlers/heartbeat.js';
import { joinGroup } from './handlers/join-group.js';
import { leaveGroup } from './handlers/leave-group.js';
import { listGroups } from './handlers/list-groups.js';
import { offsetCommit } from './handlers/offset-commit.js';
import { offsetFetch } from './handlers/offset-fetch.js';
import { syncGroup } from './handlers/sync-group.js';

export const groupApis: readonly KafkaApi[] = [
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
];
