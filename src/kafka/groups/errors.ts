/**
 * The outcomes the group coordinator can answer with, by Kafka's names (the protocol guide's error
 * table), and their wire codes. The coordinator speaks in names; only the handlers write codes.
 */
export const GROUP_ERROR_CODES = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  OFFSET_METADATA_TOO_LARGE: 12,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  INVALID_REQUEST: 42,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
} as const;

export type GroupErrorName = keyof typeof GROUP_ERROR_CODES;

/** A refused group operation: `error` is never NONE. */
export type GroupError = Exclude<GroupErrorName, 'NONE'>;

export function groupErrorCode(name: GroupErrorName): number {
  return GROUP_ERROR_CODES[name];
}
