import type { Logger } from 'pino';
import type { DefinitionRecord, DefinitionStore } from '../../store/store.js';
import type { Binding } from '../binding.js';
import type { SessionOwner } from '../front-door.js';
import type { Exchange } from '../exchanges/exchange.js';
import type { PolicyChange, PolicySpec } from '../policies/index.js';
import type { Queue } from '../queue/queue.js';
import type { VHost } from '../vhost.js';
import type { ParameterChange, RuntimeParameters } from '../parameters/runtime-parameters.js';
import { fieldTableFromJson, fieldTableToJson } from './field-json.js';

/**
 * What a VHost reports about its topology as it changes. The durable-definitions journal implements it;
 * the VHost does not need to know which entities are durable.
 */
export interface DefinitionObserver {
  exchangeCreated(exchange: Exchange): void;
  exchangeDeleted(exchange: Exchange): void;
  queueCreated(queue: Queue): void;
  queueDeleted(queue: Queue): void;
  bindingAdded(binding: Binding): void;
  bindingRemoved(binding: Binding): void;
}

/** What the journal needs from the broker to restore: a way to reach (and create) vhosts. */
export interface DefinitionTarget {
  addVhost(name: string): VHost;
  readonly parameters: RuntimeParameters;
}

/** Values as stored in the journal (JSON). Changing a field's meaning needs a new store format version. */
interface StoredExchange {
  vhost: string;
  name: string;
  type: string;
  autoDelete: boolean;
  internal: boolean;
  arguments: unknown;
}

interface StoredQueue {
  vhost: string;
  name: string;
  autoDelete: boolean;
  arguments: unknown;
}

interface StoredBinding {
  vhost: string;
  source: string;
  destinationKind: 'queue' | 'exchange';
  destination: string;
  routingKey: string;
  arguments: unknown;
}

interface StoredPolicy extends Required<PolicySpec> {
  vhost: string;
  name: string;
}

/**
 * Keys of runtime and global parameters in the journal (kind 'parameter'). A JSON array whose first
 * element says which, so they never clash with the plain-string keys other modules keep there.
 */
function runtimeParameterKey(component: string, vhost: string, name: string): string {
  return JSON.stringify(['runtime', component, vhost, name]);
}

function globalParameterKey(name: string): string {
  return JSON.stringify(['global', name]);
}

/** Key of an exchange or queue definition (and of a policy), and the store's stream name of a durable queue. */
export function entityKey(vhost: string, name: string): string {
  return JSON.stringify([vhost, name]);
}

function bindingKey(binding: Binding): string {
  return JSON.stringify([binding.source.vhost.name, binding.source.name, binding.identity]);
}

/** The predeclared exchanges ('' and amq.*) exist in every vhost by construction: never journaled. */
function isPredeclared(exchange: Exchange): boolean {
  return exchange.name === '' || exchange.name.startsWith('amq.');
}

/** RabbitMQ: exclusive queues never survive a restart, whatever their durable flag says. */
export function isDurableQueue(queue: Queue): boolean {
  return queue.durable && queue.exclusiveOwner === undefined && !queue.isDirectReplyTo;
}

function isDurableBinding(binding: Binding): boolean {
  const destination = binding.destination;
  const durableDestination = destination.kind === 'queue' ? isDurableQueue(destination) : destination.durable;
  return binding.source.durable && durableDestination;
}

/**
 * Records durable vhosts, exchanges, queues and bindings in the store's definitions journal as they are
 * created and deleted, and re-creates them on start. Writes are synchronous and join the next group
 * commit; a declare-ok may go out before that commit (as in RabbitMQ, declarations are not confirmed).
 */
export class DefinitionJournal implements DefinitionObserver {
  /**
   * Writes only between start and stop, and only to a persistent store (a MemoryStore keeps nothing
   * across restarts, so journaling into it would be wasted work). While restoring, re-created entities
   * are already in the journal: nothing is written either.
   */
  private active = false;
  /** Owner of the queues re-created on start (none is exclusive, so it is never compared). */
  private readonly recoveryOwner: SessionOwner = { name: 'recovery' };

  constructor(
    private readonly store: DefinitionStore & { readonly persistent?: boolean },
    private readonly logger: Logger,
    /** Journal even into a store that keeps no messages (a cluster's definitions always persist). */
    private readonly alwaysPersistent = false,
  ) {}

  vhostCreated(name: string): void {
    if (!this.active) return;
    this.store.putDefinition('vhost', name, { name });
  }

  /** Call before the vhost closes: exchanges and their bindings are dropped without per-entity events. */
  vhostDeleted(vhost: VHost): void {
    if (!this.active) return;
    for (const exchange of vhost.exchanges.values()) {
      for (const binding of exchange.bindings.values()) this.bindingRemoved(binding);
      this.exchangeDeleted(exchange);
    }
    for (const policy of vhost.policies.list()) this.store.deleteDefinition('policy', entityKey(vhost.name, policy.name));
    this.store.deleteDefinition('vhost', vhost.name);
  }

  /** Policies are always durable (RabbitMQ keeps them in its metadata store). Subscribed per vhost by the Broker. */
  policyChanged(change: PolicyChange): void {
    if (!this.active) return;
    if (change.kind === 'deleted') {
      this.store.deleteDefinition('policy', entityKey(change.vhost, change.name));
      return;
    }
    const value: StoredPolicy = change.policy.toSpec();
    this.store.putDefinition('policy', entityKey(change.vhost, change.policy.name), value);
  }

  /** Runtime and global parameters are always durable, as policies are. Subscribed by the Broker. */
  parameterChanged(change: ParameterChange): void {
    if (!this.active) return;
    if (change.kind === 'set' || change.kind === 'deleted') {
      const { component, vhost, name, value } = change.parameter;
      const key = runtimeParameterKey(component, vhost, name);
      if (change.kind === 'set') this.store.putDefinition('parameter', key, { component, vhost, name, value });
      else this.store.deleteDefinition('parameter', key);
      return;
    }
    const key = globalParameterKey(change.parameter.name);
    if (change.kind === 'global-set') this.store.putDefinition('parameter', key, { name: change.parameter.name, value: change.parameter.value });
    else this.store.deleteDefinition('parameter', key);
  }

  exchangeCreated(exchange: Exchange): void {
    if (!this.active || !exchange.durable || isPredeclared(exchange)) return;
    const value: StoredExchange = {
      vhost: exchange.vhost.name,
      name: exchange.name,
      type: exchange.type,
      autoDelete: exchange.autoDelete,
      internal: exchange.internal,
      arguments: fieldTableToJson(exchange.arguments),
    };
    this.store.putDefinition('exchange', entityKey(exchange.vhost.name, exchange.name), value);
  }

  exchangeDeleted(exchange: Exchange): void {
    if (!this.active || !exchange.durable || isPredeclared(exchange)) return;
    this.store.deleteDefinition('exchange', entityKey(exchange.vhost.name, exchange.name));
  }

  queueCreated(queue: Queue): void {
    if (!this.active || !isDurableQueue(queue)) return;
    const value: StoredQueue = {
      vhost: queue.vhost.name,
      name: queue.name,
      autoDelete: queue.autoDelete,
      arguments: fieldTableToJson(queue.arguments),
    };
    this.store.putDefinition('queue', entityKey(queue.vhost.name, queue.name), value);
  }

  queueDeleted(queue: Queue): void {
    if (!this.active || !isDurableQueue(queue)) return;
    this.store.deleteDefinition('queue', entityKey(queue.vhost.name, queue.name));
  }

  bindingAdded(binding: Binding): void {
    if (!this.active || !isDurableBinding(binding)) return;
    const value: StoredBinding = {
      vhost: binding.source.vhost.name,
      source: binding.source.name,
      destinationKind: binding.destination.kind,
      destination: binding.destination.name,
      routingKey: binding.routingKey,
      arguments: fieldTableToJson(binding.arguments),
    };
    this.store.putDefinition('binding', bindingKey(binding), value);
  }

  bindingRemoved(binding: Binding): void {
    if (!this.active || !isDurableBinding(binding)) return;
    this.store.deleteDefinition('binding', bindingKey(binding));
  }

  /**
   * Re-creates what the journal holds: vhosts, then policies (so queues and exchanges get theirs as they
   * are declared), exchanges, queues, bindings (so every binding finds both ends). An entity that cannot
   * be re-created (an exchange type whose plugin is gone, a policy that no longer validates) is logged and
   * skipped; its bindings then fail and are skipped too, as RabbitMQ does.
   */
  restore(target: DefinitionTarget, records: readonly DefinitionRecord[]): void {
    for (const record of records) if (record.kind === 'vhost') target.addVhost(record.key);
    for (const kind of ['policy', 'exchange', 'queue', 'binding'] as const) {
      for (const record of records) if (record.kind === kind) this.restoreOne(target, record);
    }
    for (const record of records) if (record.kind === 'parameter') this.restoreParameter(target, record);
  }

  /** Runtime and global parameters (keys made by runtimeParameterKey/globalParameterKey; others are not ours). */
  restoreParameter(target: DefinitionTarget, record: DefinitionRecord): void {
    if (!record.key.startsWith('[')) return;
    const which = (JSON.parse(record.key) as unknown[])[0];
    const value = record.value as { component?: string; vhost?: string; name: string; value: unknown };
    if (which === 'runtime' && value.component !== undefined && value.vhost !== undefined) {
      target.parameters.restore({ component: value.component, vhost: value.vhost, name: value.name, value: value.value });
    } else if (which === 'global') {
      target.parameters.setGlobal(value.name, value.value);
    }
  }

  /** Start journaling (after restore, with the store open). No-op for a non-persistent store. */
  activate(): void {
    this.active = this.alwaysPersistent || this.store.persistent === true;
  }

  /** Stop journaling (the store is about to close). */
  deactivate(): void {
    this.active = false;
  }

  /** Re-creates one definition (restore, and a cluster node applying another node's change). */
  restoreOne(target: DefinitionTarget, record: DefinitionRecord): void {
    try {
      if (record.kind === 'policy') this.restorePolicy(target, record.value as StoredPolicy);
      else if (record.kind === 'exchange') this.restoreExchange(target, record.value as StoredExchange);
      else if (record.kind === 'queue') this.restoreQueue(target, record.value as StoredQueue);
      else this.restoreBinding(target, record.value as StoredBinding);
    } catch (error) {
      this.logger.warn({ err: error, kind: record.kind, key: record.key }, `durable ${record.kind} not restored: ${(error as Error).message}`);
    }
  }

  private restorePolicy(target: DefinitionTarget, stored: StoredPolicy): void {
    const { vhost, name, ...spec } = stored;
    target.addVhost(vhost).policies.set(name, spec);
  }

  private restoreExchange(target: DefinitionTarget, stored: StoredExchange): void {
    target.addVhost(stored.vhost).declareExchange({
      name: stored.name,
      type: stored.type,
      durable: true,
      autoDelete: stored.autoDelete,
      internal: stored.internal,
      arguments: fieldTableFromJson(stored.arguments),
    });
  }

  private restoreQueue(target: DefinitionTarget, stored: StoredQueue): void {
    const request = { name: stored.name, durable: true, exclusive: false, autoDelete: stored.autoDelete, arguments: fieldTableFromJson(stored.arguments) };
    target.addVhost(stored.vhost).declareQueue(request, this.recoveryOwner);
  }

  private restoreBinding(target: DefinitionTarget, stored: StoredBinding): void {
    const vhost = target.addVhost(stored.vhost);
    const args = fieldTableFromJson(stored.arguments);
    if (stored.destinationKind === 'queue') {
      vhost.bindQueue(stored.destination, stored.source, stored.routingKey, args, this.recoveryOwner);
    } else {
      vhost.bindExchange(stored.destination, stored.source, stored.routingKey, args);
    }
  }
}
