/**
 * Consumer group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
 * OffsetFetch, ListGroups, DescribeGroups): owned by the kafka-groups part (K2). Until it lands the
 * list is empty, so ApiVersions does not advertise them and a request for one closes the connection,
 * as a Kafka broker does for an API key it does not know.
 */
import type { KafkaApi } from '../api.js';

export const groupApis: readonly KafkaApi[] = [];
