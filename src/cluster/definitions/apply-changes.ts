import type { Logger } from 'pino';
import type { UserRegistry } from '../../auth/users.js';
import { storedScram } from '../../auth/user-journal.js';
import type { Broker } from '../../broker/broker.js';
import type { PermissionConfig } from '../../config/types.js';
import type { DefinitionChange } from './cluster-definitions.js';

interface StoredUser {
  name: string;
  passwordHash: string;
  tags: string[];
  scram?: unknown;
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
      else if (change.kind === 'parameter') applyParameterChange(broker, change);
      else if (change.deleted) applyDeletion(broker, change);
      else if (change.kind === 'vhost') broker.addVhost(change.key);
      else broker.definitions.restoreOne(broker, { kind: change.kind, key: change.key, value: change.value });
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

/**
 * Runtime and global parameters (shovels, federation upstreams, cluster_name, ...): set the way a restart
 * restores them; deleted by the key's parts (definitions.ts: ["runtime", component, vhost, name] or
 * ["global", name]). Their listeners (the shovel and federation managers) react as to a local change.
 */
function applyParameterChange(broker: Broker, change: DefinitionChange): void {
  if (!change.deleted) return broker.definitions.restoreParameter(broker, { kind: 'parameter', key: change.key, value: change.value });
  const parts = JSON.parse(change.key) as string[];
  if (parts[0] === 'runtime' && parts.length === 4) broker.parameters.delete(parts[1]!, parts[2]!, parts[3]!);
  else if (parts[0] === 'global' && parts.length === 2) broker.parameters.deleteGlobal(parts[1]!);
}

const RECOVERY_OWNER = { name: 'cluster' };

function applyUserChange(users: UserRegistry, change: DefinitionChange): void {
  if (change.kind === 'user') {
    if (change.deleted) return void users.deleteUser(change.key);
    const stored = change.value as StoredUser;
    if (users.getUser(stored.name) === undefined) return void users.addUserWithHash(stored.name, stored.passwordHash, stored.tags, storedScram(stored));
    users.setPasswordHash(stored.name, stored.passwordHash, storedScram(stored));
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
