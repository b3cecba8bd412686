import { randomBytes } from 'node:crypto';
import { accessRefused, describeResource } from '../broker/errors.js';
import { isLoopbackAddress } from './loopback.js';
import { hashPassword, isPasswordHash, verifyPassword } from './password.js';
import { compilePermissions, patternSource } from './permissions.js';
import type { PermissionKind, PermissionPatterns, Permissions } from './permissions.js';
import { isScramCredentials, scramCredentials, type ScramCredentials } from './scram.js';
import { TopicPermissionTable, type TopicPermissionEntry, type TopicPermissionKind, type TopicPermissionPatterns, type TopicVariables } from './topic-permissions.js';

export interface User {
  name: string;
  /** base64(salt + sha256(salt + password)), RabbitMQ's format; '' = no password login possible. */
  passwordHash: string;
  tags: string[];
  /**
   * SCRAM-SHA-256/512 credentials for the same password, made whenever the registry learns a password
   * (addUser, changePassword); absent for users known only by hash (a RabbitMQ definitions import),
   * who can log in with PLAIN but not SCRAM until their password is set again.
   */
  scram?: ScramCredentials;
}

export type AuthOutcome = { ok: true; user: User } | { ok: false; reason: string };

export interface UserRegistryOptions {
  /** Users that may connect only from the local machine (RabbitMQ's loopback_users). Default ['guest']. */
  loopbackUsers?: string[];
}

/** One row of the permission table, as `rabbitmqctl list_permissions` and definitions exports show it. */
export interface PermissionEntry extends PermissionPatterns {
  user: string;
  vhost: string;
}

/** Told about every change, so that the server can persist users and permissions (src/durability). */
export interface UserRegistryObserver {
  /** Added, or its password hash or tags changed. */
  userChanged(user: User): void;
  /** Deleted; its permissions were reported cleared just before. */
  userDeleted(name: string): void;
  /** Set (patterns) or cleared (undefined). */
  permissionsChanged(user: string, vhost: string, patterns: PermissionPatterns | undefined): void;
  /** A topic permission set (patterns) or cleared (undefined). */
  topicPermissionsChanged?(user: string, vhost: string, exchange: string, patterns: TopicPermissionPatterns | undefined): void;
}

/**
 * The internal user database: users, their tags, and per-vhost permissions. Everything lives on the
 * instance so that two servers in one process (tests) never share users.
 */
export class UserRegistry {
  private readonly users = new Map<string, User>();
  /** user -> vhost -> compiled permissions */
  private readonly grants = new Map<string, Map<string, Permissions>>();
  private readonly topicGrants = new TopicPermissionTable();
  private readonly loopbackUsers: ReadonlySet<string>;
  /** A hash of a random secret nobody knows, verified against when the user has no usable hash. */
  private readonly decoyHash = hashPassword(randomBytes(16).toString('hex'));
  private observer: UserRegistryObserver | undefined;

  constructor(options: UserRegistryOptions = {}) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? ['guest']);
  }

  /** One observer (the server's persistence); undefined stops reporting. */
  observe(observer: UserRegistryObserver | undefined): void {
    this.observer = observer;
  }

  addUser(name: string, password: string, tags: string[] = []): User {
    return this.addUserWithHash(name, hashPassword(password), tags, scramCredentials(password));
  }

  /**
   * Imports a user with a hash made elsewhere (a RabbitMQ definitions export, the config file), and
   * the SCRAM credentials of the same password when they are known (the user journal, a cluster peer).
   */
  addUserWithHash(name: string, passwordHash: string, tags: string[] = [], scram?: ScramCredentials): User {
    if (name === '') throw new RangeError('user name must not be empty');
    if (this.users.has(name)) throw new RangeError(`user '${name}' already exists`);
    checkCredentials(name, passwordHash, scram);
    const user: User = { name, passwordHash, tags: [...tags], ...(scram === undefined ? {} : { scram }) };
    this.users.set(name, user);
    this.observer?.userChanged(user);
    return user;
  }

  getUser(name: string): User | undefined {
    return this.users.get(name);
  }

  listUsers(): User[] {
    return [...this.users.values()];
  }

  /** Removes the user and all of its permissions. Returns false when there was no such user. */
  deleteUser(name: string): boolean {
    for (const row of this.listTopicPermissions().filter((r) => r.user === name)) this.clearTopicPermissions(name, row.vhost, row.exchange);
    for (const vhost of this.grants.get(name)?.keys() ?? []) this.observer?.permissionsChanged(name, vhost, undefined);
    this.grants.delete(name);
    const deleted = this.users.delete(name);
    if (deleted) this.observer?.userDeleted(name);
    return deleted;
  }

  changePassword(name: string, password: string): void {
    const user = this.requireUser(name);
    user.passwordHash = hashPassword(password);
    user.scram = scramCredentials(password);
    this.observer?.userChanged(user);
  }

  /**
   * Replaces the hash (RabbitMQ's format, or '' for no password login), e.g. from imported definitions.
   * SCRAM credentials go with it: the ones given (same password, from a cluster peer), else none, since
   * the old ones would still let the old password in.
   */
  setPasswordHash(name: string, passwordHash: string, scram?: ScramCredentials): void {
    checkCredentials(name, passwordHash, scram);
    const user = this.requireUser(name);
    user.passwordHash = passwordHash;
    if (scram === undefined) delete user.scram;
    else user.scram = scram;
    this.observer?.userChanged(user);
  }

  setTags(name: string, tags: string[]): void {
    const user = this.requireUser(name);
    user.tags = [...tags];
    this.observer?.userChanged(user);
  }

  isLoopbackOnly(name: string): boolean {
    return this.loopbackUsers.has(name);
  }

  /**
   * Checks credentials first and the loopback rule second, as RabbitMQ does, so a remote client with a
   * wrong password learns nothing about whether the user is loopback-only.
   */
  authenticate(username: string, password: string, remoteAddress: string): AuthOutcome {
    const user = this.users.get(username);
    // Unknown users cost one hash too, so response time does not reveal which user names exist.
    const hash = user === undefined || user.passwordHash === '' ? this.decoyHash : user.passwordHash;
    if (!verifyPassword(password, hash) || user === undefined || user.passwordHash === '') {
      return { ok: false, reason: `user '${username}' - invalid credentials` };
    }
    if (this.loopbackUsers.has(username) && !isLoopbackAddress(remoteAddress)) {
      return { ok: false, reason: `user '${username}' can only connect via localhost` };
    }
    return { ok: true, user };
  }

  setPermissions(user: string, vhost: string, patterns: PermissionPatterns): void {
    this.requireUser(user);
    const compiled = compilePermissions(patterns, `permissions of user '${user}' in vhost '${vhost}'`);
    let byVhost = this.grants.get(user);
    if (byVhost === undefined) {
      byVhost = new Map();
      this.grants.set(user, byVhost);
    }
    byVhost.set(vhost, compiled);
    this.observer?.permissionsChanged(user, vhost, patterns);
  }

  clearPermissions(user: string, vhost: string): void {
    if (this.grants.get(user)?.delete(vhost) === true) this.observer?.permissionsChanged(user, vhost, undefined);
  }

  /** A vhost was deleted: nobody keeps permissions on it (RabbitMQ drops them too). */
  clearVhost(vhost: string): void {
    for (const row of this.listTopicPermissions().filter((r) => r.vhost === vhost)) this.clearTopicPermissions(row.user, vhost, row.exchange);
    for (const [user, byVhost] of this.grants) {
      if (byVhost.delete(vhost)) this.observer?.permissionsChanged(user, vhost, undefined);
    }
  }

  permissions(user: string, vhost: string): Permissions | undefined {
    return this.grants.get(user)?.get(vhost);
  }

  listPermissions(): PermissionEntry[] {
    const rows: PermissionEntry[] = [];
    for (const [user, byVhost] of this.grants) {
      for (const [vhost, p] of byVhost) {
        rows.push({ user, vhost, configure: patternSource(p.configure), write: patternSource(p.write), read: patternSource(p.read) });
      }
    }
    return rows;
  }

  /** connection.open may proceed when the user holds any permission row for the vhost (RabbitMQ's rule). */
  canAccessVhost(user: User, vhost: string): boolean {
    return this.permissions(user.name, vhost) !== undefined;
  }

  /**
   * Throws an access-refused BrokerError (AMQP 403) with RabbitMQ's text, e.g. "write access to exchange 'amq.default' in vhost '/'
   * refused for user 'bob'". Permission patterns are searched, not anchored (re:run semantics).
   */
  authorize(user: User, vhost: string, permission: PermissionKind, kind: 'queue' | 'exchange', name: string): void {
    // RabbitMQ checks the default exchange under the name 'amq.default' (rabbit_access_control).
    const resourceName = kind === 'exchange' && name === '' ? 'amq.default' : name;
    const granted = this.grants.get(user.name)?.get(vhost);
    if (granted !== undefined && granted[permission].test(resourceName)) return;
    throw accessRefused(
      `${permission} access to ${describeResource(kind, resourceName, vhost)} refused for user '${user.name}'`,
    );
  }

  // ---- topic permissions (topic-permissions.ts) ------------------------------------------------

  setTopicPermissions(user: string, vhost: string, exchange: string, patterns: TopicPermissionPatterns): void {
    this.requireUser(user);
    this.topicGrants.set({ user, vhost, exchange, write: patterns.write, read: patterns.read });
    this.observer?.topicPermissionsChanged?.(user, vhost, exchange, patterns);
  }

  /** One exchange's topic permission, or (exchange undefined) all of the user's in the vhost; returns whether any went. */
  clearTopicPermissions(user: string, vhost: string, exchange?: string): boolean {
    const removed = this.topicGrants.clear(user, vhost, exchange);
    for (const name of removed) this.observer?.topicPermissionsChanged?.(user, vhost, name, undefined);
    return removed.length > 0;
  }

  hasTopicPermissions(user: string, vhost: string): boolean {
    return this.topicGrants.any(user, vhost);
  }

  listTopicPermissions(): TopicPermissionEntry[] {
    return this.topicGrants.list();
  }

  /**
   * Throws access-refused unless the routing key is allowed on the (topic) exchange, with RabbitMQ's
   * text, e.g. "write access to topic 'a.b' in exchange 'amq.topic' in vhost '/' refused for user 'bob'".
   */
  authorizeTopic(permission: TopicPermissionKind, vars: TopicVariables, exchange: string, routingKey: string): void {
    if (this.topicGrants.allows(permission, vars, exchange, routingKey)) return;
    throw accessRefused(`${permission} access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vars.vhost}' refused for user '${vars.username}'`);
  }

  private requireUser(name: string): User {
    const user = this.users.get(name);
    if (user === undefined) throw new RangeError(`no such user '${name}'`);
    return user;
  }
}

function checkCredentials(name: string, passwordHash: string, scram: ScramCredentials | undefined): void {
  if (passwordHash !== '' && !isPasswordHash(passwordHash)) {
    throw new RangeError(`user '${name}': password hash is not base64(4-byte salt + SHA-256 digest)`);
  }
  if (scram !== undefined && !isScramCredentials(scram)) throw new RangeError(`user '${name}': malformed SCRAM credentials`);
}
