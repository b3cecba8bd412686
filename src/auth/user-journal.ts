import type { PermissionPatterns } from './permissions.js';
import { isScramCredentials, type ScramCredentials } from './scram.js';
import type { TopicPermissionEntry, TopicPermissionPatterns } from './topic-permissions.js';
import type { User, UserRegistry, UserRegistryObserver } from './users.js';
import type { PermissionConfig, UserConfig } from '../config/types.js';
import type { DefinitionRecord, DefinitionStore } from '../store/store.js';

interface StoredUser {
  name: string;
  passwordHash: string;
  tags: string[];
  /** Absent in journals written before SCRAM, and for users known only by hash. */
  scram?: ScramCredentials;
}

/**
 * Names of the config users already seeded into this data dir. A config user is added on a later boot
 * only if it is not listed, so a user deleted through the management API stays deleted (RabbitMQ creates
 * its default user only on a fresh node), while a user newly written into the config file appears.
 */
const SEEDED_KEY = 'warren/seeded-config-users';

/** Topic permissions in the definitions journal (and the cluster's definitions log). */
export const TOPIC_PERMISSION_KIND = 'topic-permission';

function permissionKey(user: string, vhost: string): string {
  return JSON.stringify([user, vhost]);
}

/** Writes users and permissions to the store's definitions journal as the registry changes. */
export class UserJournal implements UserRegistryObserver {
  constructor(private readonly store: DefinitionStore) {}

  userChanged(user: User): void {
    const value: StoredUser = { name: user.name, passwordHash: user.passwordHash, tags: [...user.tags], ...(user.scram === undefined ? {} : { scram: user.scram }) };
    this.store.putDefinition('user', user.name, value);
  }

  userDeleted(name: string): void {
    this.store.deleteDefinition('user', name);
  }

  permissionsChanged(user: string, vhost: string, patterns: PermissionPatterns | undefined): void {
    const key = permissionKey(user, vhost);
    if (patterns === undefined) this.store.deleteDefinition('permission', key);
    else this.store.putDefinition('permission', key, { user, vhost, configure: patterns.configure, write: patterns.write, read: patterns.read });
  }

  topicPermissionsChanged(user: string, vhost: string, exchange: string, patterns: TopicPermissionPatterns | undefined): void {
    const key = JSON.stringify([user, vhost, exchange]);
    if (patterns === undefined) this.store.deleteDefinition(TOPIC_PERMISSION_KIND, key);
    else this.store.putDefinition(TOPIC_PERMISSION_KIND, key, { user, vhost, exchange, write: patterns.write, read: patterns.read });
  }
}

export interface UserSeed {
  users: readonly UserConfig[];
  permissions: readonly PermissionConfig[];
}

/**
 * Fills `registry` from the recovered definitions, then adds the config's users (and their permissions)
 * that were never seeded into this data dir before. Persisted state wins over the config for users that
 * exist in both (a password changed through the API survives a restart). Start observing afterwards.
 */
export function restoreUsers(registry: UserRegistry, records: readonly DefinitionRecord[], seed: UserSeed, store: DefinitionStore): void {
  for (const record of records) {
    if (record.kind !== 'user') continue;
    const stored = record.value as StoredUser;
    if (registry.getUser(stored.name) === undefined) registry.addUserWithHash(stored.name, stored.passwordHash, stored.tags, storedScram(stored));
  }
  for (const record of records) {
    if (record.kind !== 'permission') continue;
    const stored = record.value as PermissionConfig;
    if (registry.getUser(stored.user) !== undefined) registry.setPermissions(stored.user, stored.vhost, stored);
  }
  for (const record of records) {
    if (record.kind !== TOPIC_PERMISSION_KIND) continue;
    const stored = record.value as TopicPermissionEntry;
    if (registry.getUser(stored.user) !== undefined) registry.setTopicPermissions(stored.user, stored.vhost, stored.exchange, stored);
  }
  const seededBefore = new Set(seededNames(records));
  const fresh = seed.users.filter((user) => !seededBefore.has(user.name) && registry.getUser(user.name) === undefined);
  const freshNames = new Set(fresh.map((user) => user.name));
  const journal = new UserJournal(store);
  for (const user of fresh) {
    const created = user.passwordHash !== undefined
      ? registry.addUserWithHash(user.name, user.passwordHash, user.tags)
      : registry.addUser(user.name, user.password ?? '', user.tags);
    journal.userChanged(created);
  }
  for (const grant of seed.permissions) {
    if (!freshNames.has(grant.user)) continue;
    registry.setPermissions(grant.user, grant.vhost, grant);
    journal.permissionsChanged(grant.user, grant.vhost, grant);
  }
  if (fresh.length !== 0) store.putDefinition('parameter', SEEDED_KEY, [...seededBefore, ...freshNames]);
}

/** The user's SCRAM credentials as journaled, or undefined (none, or not well-formed: SCRAM then fails, PLAIN works). */
export function storedScram(stored: { scram?: unknown }): ScramCredentials | undefined {
  return isScramCredentials(stored.scram) ? stored.scram : undefined;
}

function seededNames(records: readonly DefinitionRecord[]): string[] {
  const record = records.find((r) => r.kind === 'parameter' && r.key === SEEDED_KEY);
  return Array.isArray(record?.value) ? (record.value as unknown[]).filter((v): v is string => typeof v === 'string') : [];
}
