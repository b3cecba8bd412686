import { pino, type Logger } from 'pino';
import type { PolicySpec } from './policies/index.js';
import { MemoryStore } from '../store/memory-store.js';
import type { DefinitionRecord, DefinitionStore, RecoveredState, Store } from '../store/store.js';
import { DurableDelayedStore, isDelayedStreamName } from './exchanges/delayed/durable-delayed-store.js';
import type { ExchangeType } from './exchanges/exchange-type.js';
import { ExchangeTypeRegistry } from './exchanges/registry.js';
import { DefinitionJournal, entityKey } from './persistence/definitions.js';
import { RuntimeParameters } from './parameters/runtime-parameters.js';
import { OPERATOR_POLICY_COMPONENT, operatorPolicyComponent, type OperatorPolicyValue } from './parameters/operator-policies.js';
import { RecordTables } from './records.js';
import { JSON_PROPERTIES_CODEC, MessageHeaderCodec, type PropertiesCodec } from './persistence/message-header.js';
import { DurableStoreAccess } from './queue/durable-messages.js';
import { ReadPacer } from './stream/read-pacer.js';
import type { StreamBatchDecoder, StreamLogAccess } from './stream/stream-queue.js';
import type { StreamRecord } from '../store/store.js';
import type { Queue } from './queue/queue.js';
import type { QueuePlacement } from './queue-placement.js';
import { VHost, type BrokerLimits, type VHostContext } from './vhost.js';
import { emptyArray } from '../util/empty-array.js';

export type { BrokerLimits } from './vhost.js';

export interface BrokerOptions {
  /** Persistence (src/store): LogStore for a data dir; default MemoryStore, nothing survives a restart. */
  store?: Store;
  /**
   * The store failed (a write or fsync error): nothing accepted from now on can be made durable, and no
   * pending confirm or tx.commit-ok will ever be sent. The server stops serving (fail closed). Default: log.
   */
  onStoreFailure?: (error: Error) => void;
  /** How message properties are stored; the server injects the AMQP encoding. Default: JSON. */
  propertiesCodec?: PropertiesCodec;
  /** Body bytes a durable queue keeps in memory before paging to disk. Default 16 MiB. */
  queueMemoryBytes?: number;
  /** Default: silent. */
  logger?: Logger;
  limits?: Partial<BrokerLimits>;
  /** Extra exchange types (plugins) besides direct, fanout, topic and headers. */
  exchangeTypes?: readonly ExchangeType[];
  /**
   * A cluster node's definitions (src/cluster): where definitions are written and read at start instead
   * of the store's own journal, and its say in where queues live. Absent for a single broker.
   */
  cluster?: BrokerClusterHooks;
}

export interface BrokerClusterHooks {
  readonly definitions: DefinitionStore;
  /** The cluster-wide definitions, read at start (instead of the store's). */
  loadDefinitions(): Promise<DefinitionRecord[]>;
  readonly placement: QueuePlacement;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxQueues: 1_000_000,
  maxExchanges: 100_000,
  consumerTimeoutMs: 0,
});

export const DEFAULT_VHOST = '/';

/**
 * The protocol-agnostic broker: vhosts with their exchanges and queues. One instance per server; front
 * doors (AMQP, HTTP) hold a reference and call into it. Nothing is global, so tests can run several.
 */
export class Broker implements VHostContext {
  readonly exchangeTypes: ExchangeTypeRegistry;
  readonly limits: BrokerLimits;
  readonly logger: Logger;
  readonly store: Store;
  readonly definitions: DefinitionJournal;
  /** Runtime parameters, global parameters and operator policies (durable definitions). */
  readonly parameters = new RuntimeParameters();
  /** Keyed records per vhost and table (records.ts): state clients keep in the broker (src/jobs). */
  readonly records = new RecordTables();
  /** Every publish tells it; stream readers replaying old data give way to writers (read-pacer.ts). */
  readonly readPacer = new ReadPacer();
  private readonly vhostTable = new Map<string, VHost>();
  private started = false;
  private stopped = false;
  private recovered: RecoveredState | undefined;
  /** Callbacks waiting for durability, in the order their store callbacks will run (the store keeps order). */
  private readonly durableWaiters: ((() => void) | undefined)[] = [];
  private durableWaitersHead = 0;
  private storeFailure: Error | undefined;
  private readonly onStoreFailure: ((error: Error) => void) | undefined;
  private readonly storeAccess: DurableStoreAccess;
  private streamBatchDecoder: StreamBatchDecoder | undefined;
  /** Pending persistent messages of durable x-delayed-message exchanges, in the store. */
  private readonly delayedStore: DurableDelayedStore;
  private persisting = false;
  /** The store is open and definitions are being restored (stream queues may open their logs). */
  private restoring = false;
  private readonly cluster: BrokerClusterHooks | undefined;
  private readonly onStoreDurable = (error?: Error): void => {
    const callback = this.durableWaiters[this.durableWaitersHead];
    this.durableWaiters[this.durableWaitersHead++] = undefined;
    if (this.durableWaitersHead === this.durableWaiters.length) {
      emptyArray(this.durableWaiters);
      this.durableWaitersHead = 0;
    }
    if (error !== undefined) this.failStore(error);
    else if (this.storeFailure === undefined) callback?.();
  };

  constructor(options: BrokerOptions = {}) {
    this.store = options.store ?? new MemoryStore();
    this.onStoreFailure = options.onStoreFailure;
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.cluster = options.cluster;
    // A cluster node keeps its definitions in the cluster's database; its local store keeps messages.
    this.definitions = new DefinitionJournal(this.cluster?.definitions ?? this.store, this.logger, this.cluster !== undefined);
    this.parameters.registerComponent(operatorPolicyComponent);
    this.parameters.onChange((change) => this.definitions.parameterChanged(change));
    this.parameters.onChange((change) => {
      if ((change.kind === 'set' || change.kind === 'deleted') && change.parameter.component === OPERATOR_POLICY_COMPONENT) {
        const vhost = this.vhostTable.get(change.parameter.vhost);
        if (vhost !== undefined) this.applyOperatorPolicies(vhost);
      }
    });
    this.storeAccess = new DurableStoreAccess(
      this.store,
      new MessageHeaderCodec(options.propertiesCodec ?? JSON_PROPERTIES_CODEC),
      options.queueMemoryBytes ?? 16 * 1024 * 1024,
    );
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.delayedStore = new DurableDelayedStore(() => this.durableStore, this.logger);
    this.exchangeTypes = ExchangeTypeRegistry.withBuiltins({ store: this.delayedStore });
    for (const type of options.exchangeTypes ?? []) this.exchangeTypes.register(type);
  }

  /** The cluster's say in where queues live (VHostContext). */
  get placement(): QueuePlacement | undefined {
    return this.cluster?.placement;
  }

  /** The headers codec of stored and forwarded messages (a cluster's links carry messages in it). */
  get messageHeaders(): MessageHeaderCodec {
    return this.storeAccess.headers;
  }

  /** Stream queues' logs: the store, once open (a MemoryStore keeps them in memory). */
  get streamLogs(): StreamLogAccess | undefined {
    return this.recovered !== undefined || this.restoring
      ? { store: this.store, headers: this.storeAccess.headers, decodeBatch: (record, queueName) => this.decodeStreamBatch(record, queueName), pacer: this.readPacer }
      : undefined;
  }

  /**
   * The door that appends batches in its own format to stream logs (StreamLog.appendBatch: the Kafka
   * door's record batches) registers how such a batch becomes records for readers that want messages.
   */
  setStreamBatchDecoder(decoder: StreamBatchDecoder): void {
    this.streamBatchDecoder = decoder;
  }

  private decodeStreamBatch(record: StreamRecord, queueName: string): StreamRecord[] {
    if (this.streamBatchDecoder === undefined) throw new Error('a stream holds a batch written by a door that is not running here (no batch decoder)');
    return this.streamBatchDecoder(record, queueName);
  }

  /** Present while persistent messages are written: a persistent store, between start and stop. */
  get durableStore(): DurableStoreAccess | undefined {
    return this.persisting ? this.storeAccess : undefined;
  }

  get vhosts(): ReadonlyMap<string, VHost> {
    return this.vhostTable;
  }

  /**
   * Opens the store (locks the data dir), ensures vhost '/', re-creates the durable definitions and
   * messages found there. Returns what the store recovered (the server restores users from it).
   */
  async start(): Promise<RecoveredState> {
    if (this.recovered !== undefined) return this.recovered;
    const recovered = await this.store.open();
    this.restoring = true;
    for (const problem of recovered.problems) this.logger.warn({ problem }, `store recovery: ${problem}`);
    this.persisting = this.store.persistent;
    this.addVhost(DEFAULT_VHOST);
    // Durable delayed exchanges read their pending messages as the definitions re-create them.
    this.delayedStore.beginRecovery(recovered.streams);
    this.definitions.restore(this, this.cluster === undefined ? recovered.definitions : await this.cluster.loadDefinitions());
    const orphans = await this.delayedStore.finishRecovery();
    if (orphans !== 0) this.logger.warn({ exchanges: orphans }, 'stored delayed messages of unknown exchanges dropped');
    await this.restoreMessages(recovered);
    this.definitions.activate();
    // Records live in the local store's journal, also on a cluster node (not replicated: see records.ts).
    this.records.restore(recovered.definitions);
    if (this.store.persistent) this.records.persistTo(this.store);
    this.definitions.vhostCreated(DEFAULT_VHOST);
    this.started = true;
    this.recovered = recovered;
    return recovered;
  }

  /** Stops timers and closes the store. Queues keep their state in memory. */
  async stop(): Promise<void> {
    for (const vhost of this.vhostTable.values()) vhost.stopTimers();
    if (!this.started) return;
    this.started = false;
    this.stopped = true;
    this.definitions.deactivate();
    this.persisting = false;
    await this.store.close();
  }

  getVhost(name: string): VHost | undefined {
    return this.vhostTable.get(name);
  }

  /** Idempotent; a new vhost comes with the default and amq.* exchanges. */
  addVhost(name: string): VHost {
    let vhost = this.vhostTable.get(name);
    if (vhost === undefined) {
      vhost = new VHost(name, this);
      this.vhostTable.set(name, vhost);
      vhost.policies.onChange((change) => this.definitions.policyChanged(change));
      this.definitions.vhostCreated(name);
    }
    return vhost;
  }

  /** Gives a vhost's policies its operator policies (kept as runtime parameters, as RabbitMQ keeps them). */
  private applyOperatorPolicies(vhost: VHost): void {
    const list = this.parameters.list({ component: OPERATOR_POLICY_COMPONENT, vhost: vhost.name }).map((p) => {
      const v = p.value as OperatorPolicyValue;
      return { name: p.name, spec: { pattern: v.pattern, applyTo: v['apply-to'] as PolicySpec['applyTo'], priority: v.priority, definition: v.definition } };
    });
    vhost.policies.setOperatorPolicies(list);
  }

  /** Closes its queues (consumers are cancelled) and forgets it. */
  deleteVhost(name: string): void {
    const vhost = this.vhostTable.get(name);
    if (vhost === undefined) return;
    this.vhostTable.delete(name);
    this.parameters.deleteVhost(name);
    this.definitions.vhostDeleted(vhost);
    this.records.dropVhost(name);
    vhost.close();
  }

  /**
   * Calls `callback` once everything accepted so far is durable (group commit). Fails closed: after a
   * store failure the callback is never called (no confirm, no commit-ok for data that may be lost).
   */
  whenDurable(callback: () => void): void {
    // A stopped broker's store is closed: nothing more becomes durable, so nothing is confirmed.
    if (this.storeFailure !== undefined || this.stopped) return;
    this.durableWaiters.push(callback);
    this.store.whenDurable(this.onStoreDurable);
  }

  /**
   * Gives each durable queue its recovered messages. A stream without a queue (its definition could not
   * be restored) is dropped, so its messages do not pin disk space forever.
   */
  private async restoreMessages(recovered: RecoveredState): Promise<void> {
    let messages = 0;
    const restored: Queue[] = [];
    for (const { stream, handles, delivered } of recovered.streams) {
      if (isDelayedStreamName(stream.name)) continue; // the delayed exchange's own (DurableDelayedStore)
      const queue = this.queueForStream(stream.name);
      if (queue === undefined || !queue.durable) {
        if (handles.length !== 0) this.logger.warn({ stream: stream.name, messages: handles.length }, 'stored messages of an unknown queue dropped');
        stream.drop();
        continue;
      }
      await queue.restoreStored(handles, delivered);
      restored.push(queue);
      messages += handles.length;
    }
    // Expiry and length limits may dead-letter into another queue: only once all are restored.
    for (const queue of restored) queue.finishRestore();
    this.dropOrphanStreamLogs();
    if (messages !== 0) this.logger.info({ messages, queues: recovered.streams.length }, `recovered ${messages} persistent messages`);
  }

  /** A stream log whose stream queue did not come back is dropped, so it does not pin disk space. */
  private dropOrphanStreamLogs(): void {
    for (const name of this.store.streamLogNames()) {
      if (this.queueForStream(name)?.stream !== undefined) continue;
      this.logger.warn({ stream: name }, 'stream log of an unknown stream queue dropped');
      this.store.streamLog(name).drop();
    }
  }

  private queueForStream(name: string): Queue | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(name);
    } catch {
      return undefined;
    }
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'string' || typeof parsed[1] !== 'string') return undefined;
    const queue = this.vhostTable.get(parsed[0])?.getQueue(parsed[1]);
    return queue !== undefined && entityKey(queue.vhost.name, queue.name) === name ? queue : undefined;
  }

  /** The store error that stopped durability, if any. */
  get failure(): Error | undefined {
    return this.storeFailure;
  }

  private failStore(error: Error): void {
    if (this.storeFailure !== undefined) return;
    this.storeFailure = error;
    emptyArray(this.durableWaiters);
    this.durableWaitersHead = 0;
    this.logger.error({ err: error }, `message store failed, nothing more can be made durable: ${error.message}`);
    this.onStoreFailure?.(error);
  }
}
