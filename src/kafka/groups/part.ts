/**
 * The consumer-group part of a Kafka door: one coordinator and one offset store per door (a door-wide
 * part, closed with the door), and how a request reaches its topics and is authorised.
 */
import type { User } from '../../auth/users.js';
import { refusal } from '../access.js';
import type { KafkaSession } from '../session.js';
import { GroupCoordinator } from './coordinator.js';
import { CommittedOffsets } from './offsets.js';

/**
 * group.min.session.timeout.ms. Kafka's is 6000 (against heartbeat storms across a big cluster); one
 * Warren node serves every group itself, so sessions down to 1 s are accepted (a consumer killed with
 * kill -9 is noticed sooner when its client asks for it).
 */
export const WARREN_MIN_SESSION_TIMEOUT_MS = 1000;

export interface GroupsPart {
  readonly coordinator: GroupCoordinator;
  readonly offsets: CommittedOffsets;
}

export function groupsOf(session: KafkaSession): GroupsPart {
  const door = session.door;
  return door.part('groups', () => {
    const coordinator = new GroupCoordinator({ minSessionTimeoutMs: WARREN_MIN_SESSION_TIMEOUT_MS });
    door.onClose(() => coordinator.close());
    return { coordinator, offsets: new CommittedOffsets((callback) => door.broker.whenDurable(callback)) };
  });
}

/** The session's Warren user, if it exists (a deleted user's connection gets authorisation errors). */
export function userOf(session: KafkaSession): User | undefined {
  return session.user === undefined ? undefined : session.door.users.getUser(session.user);
}

/**
 * Groups have no permissions of their own in Warren: any user with access to the door's vhost may use
 * any group (Kafka's READ on the group resource). Topics are checked as the stream queues they are.
 */
export function mayUseGroups(session: KafkaSession): boolean {
  const user = userOf(session);
  return user !== undefined && session.door.users.canAccessVhost(user, session.vhost);
}

/** Kafka's READ on a topic: Warren's read permission on the partition's stream queue. */
export function mayReadPartition(session: KafkaSession, queueName: string): boolean {
  return refusal(session, 'read', queueName) === undefined;
}
