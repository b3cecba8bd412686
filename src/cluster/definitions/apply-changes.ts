import type { Logger } from 'pino';
import type { UserRegistry } from '../../auth/users.js';
import type { Broker } from '../../broker/broker.js';
import type { PermissionConfig } from '../../config/types.js';
import type { DefinitionChange } from './cluster-definitions.js';

interface StoredUser {
  name: string;
  passwordHash: string;
  tags: string[];
}

/**
 * Brings this node's broker and users up to another node's definition changes, in revision order:
 * puts re-create or update (the same code that restores definitions at start), deletions remove. A change
 * that cannot be applied (it names what this node never saw) is logged and skipped; the next full load
 * at a restart sets everything straight.
 */
export function applyDefinitionChanges(broker: Broker, users: UserRegistry, changes: readonly DefinitionChange[], logger: Logger): void {
  for (const change of changes) {
    try {
      if (change.kind === 'user' || change.kind === 'permission' || change.kind === 'topic-permission') applyUserChange(users, change);
      else if (change.deleted) applyDeletion(broker, change);
      else if (change.kind === 'vhost') broker.addVhost(change.key);
      else if (change.kind !== 'parameter') broker.definitions.restoreOne(broker, { kind: change.kind, key: change.key, value: change.value });
    } catch (error) {
      logger.warn({ err: error, kind: change.kind, key: change.key }, `cluster definition change not applied: ${(error as Error).message}`);
    }
  }
}

function applyDeletion(broker: Broker, change: DefinitionChange): void {
  if (change.kind === 'vhost') return broker.deleteVhost(change.key);
  const [vhostName, name, identity] = JSON.parse(change.key) as [string, string, string?];
  const vhost = broker.getVhost(vhostName);
  if (vhost === undefined) return;
  switch (change.kind) {
    case 'queue': {
      const queue = vhost.getQueue(name);
      if (queue !== undefined) vhost.destroyQueue(queue);
      return;
    }
    case 'exchange':
      return vhost.deleteExchange(name, false);
    case 'policy':
      return void vhost.policies.delete(name);
    case 'binding': {
      const binding = vhost.getExchange(name)?.bindings.get(identity ?? '');
      if (binding === undefined) return;
      const destination = binding.destination;
      if (destination.kind === 'queue') vhost.unbindQueue(destination.name, name, binding.routingKey, binding.arguments, RECOVERY_OWNER);
      else vhost.unbindExchange(destination.name, name, binding.routingKey, binding.arguments);
      return;
    }
    default:
      return;
  }
}

const RECOVERY_OWNER = { name: 'cluster' };

function applyUserChange(users: UserRegistry, change: DefinitionChange): void {
  if (change.kind === 'user') {
    if (change.deleted) return void users.deleteUser(change.key);
    const stored = change.value as StoredUser;
    if (users.getUser(stored.name) === undefined) return void users.addUserWithHash(stored.name, stored.passwordHash, stored.tags);
    users.setPasswordHash(stored.name, stored.passwordHash);
    users.setTags(stored.name, stored.tags);
    return;
  }
  if (change.kind === 'topic-permission') {
    const [user, vhost, exchange] = JSON.parse(change.key) as [string, string, string];
    if (change.deleted) return void users.clearTopicPermissions(user, vhost, exchange);
    if (users.getUser(user) !== undefined) users.setTopicPermissions(user, vhost, exchange, change.value as { write: string; read: string });
    return;
  }
  const [user, vhost] = JSON.parse(change.key) as [string, string];
  if (change.deleted) return users.clearPermissions(user, vhost);
  if (users.getUser(user) !== undefined) users.setPermissions(user, vhost, change.value as PermissionConfig);
}
