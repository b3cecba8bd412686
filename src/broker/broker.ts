import { pino, type Logger } from 'pino';
import { MemoryDurability, type DurabilityStore } from './durability.js';
import type { ExchangeType } from './exchanges/exchange-type.js';
import { ExchangeTypeRegistry } from './exchanges/registry.js';
import { VHost, type BrokerLimits, type VHostContext } from './vhost.js';

export type { BrokerLimits } from './vhost.js';

export interface BrokerOptions {
  /** Persistence; default: nothing survives a restart. */
  store?: DurabilityStore;
  /** Default: silent. */
  logger?: Logger;
  limits?: Partial<BrokerLimits>;
  /** Extra exchange types (plugins) besides direct, fanout, topic and headers. */
  exchangeTypes?: readonly ExchangeType[];
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
  private readonly store: DurabilityStore;
  private readonly vhostTable = new Map<string, VHost>();
  private started = false;

  constructor(options: BrokerOptions = {}) {
    this.store = options.store ?? new MemoryDurability();
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.exchangeTypes = ExchangeTypeRegistry.withBuiltins();
    for (const type of options.exchangeTypes ?? []) this.exchangeTypes.register(type);
  }

  get vhosts(): ReadonlyMap<string, VHost> {
    return this.vhostTable;
  }

  /** Opens the store (recovery of durable state comes with the disk store) and ensures vhost '/'. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.store.open();
    this.addVhost(DEFAULT_VHOST);
    this.started = true;
  }

  /** Stops timers and closes the store. Queues keep their state in memory. */
  async stop(): Promise<void> {
    for (const vhost of this.vhostTable.values()) vhost.stopTimers();
    if (!this.started) return;
    this.started = false;
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
    }
    return vhost;
  }

  /** Closes its queues (consumers are cancelled) and forgets it. */
  deleteVhost(name: string): void {
    const vhost = this.vhostTable.get(name);
    if (vhost === undefined) return;
    this.vhostTable.delete(name);
    vhost.close();
  }

  /** Calls `callback` once everything accepted so far is durable (group commit); memory: next tick. */
  whenDurable(callback: () => void): void {
    this.store.whenDurable(callback);
  }
}
