/**
 * The shovels of one broker: dynamic ones from the runtime parameters of component `shovel` (so they
 * are durable definitions, listed, exported and imported like RabbitMQ's), static ones from the config
 * file. Also what the management API and /metrics read (`status()`).
 */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { ParameterChange } from '../broker/parameters/runtime-parameters.js';
import { redactUri } from '../util/uri-secrets.js';
import { parseShovel } from './definition.js';
import { Shovel } from './shovel.js';
import type { ShovelRow } from '../session/views.js';
import { RUN_EVERYTHING_HERE, shovelIdentity, type LinkPlacement } from './placement.js';

export const SHOVEL_COMPONENT = 'shovel';

export interface ShovelManagerOptions {
  readonly nodeName: string;
  readonly logger: Logger;
  /** Static shovels: name -> { vhost?, ...the dynamic shovel keys }. */
  readonly statics?: Readonly<Record<string, Record<string, unknown>>>;
  /** Which dynamic shovels run on this node (in a cluster, one node each); default all. */
  readonly placement?: LinkPlacement;
}

/** One row of /api/shovels (RabbitMQ's shape), plus Warren's counters. */
export type ShovelStatus = ShovelRow;

const key = (vhost: string, name: string): string => JSON.stringify([vhost, name]);

export class ShovelManager {
  private readonly shovels = new Map<string, Shovel>();
  private unsubscribe: (() => void) | undefined;
  private unsubscribePlacement: (() => void) | undefined;
  private running = false;
  private sampler: NodeJS.Timeout | undefined;
  /** Per shovel: its count at the last sample and the rate since the one before. */
  private readonly samples = new WeakMap<Shovel, { at: number; transferred: number; rate: number }>();

  constructor(
    private readonly broker: Broker,
    private readonly options: ShovelManagerOptions,
  ) {
    // Registered at once: the management API may validate a shovel before start.
    broker.parameters.registerComponent({ name: SHOVEL_COMPONENT, validate: (_vhost, name, value) => void parseShovel(name, value) });
    for (const [name, value] of Object.entries(options.statics ?? {})) parseShovel(name, withoutVhost(value));
  }

  /** Starts the static shovels and every dynamic one already defined (restored), then follows changes. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.broker.parameters.onChange((change) => this.changed(change));
    this.unsubscribePlacement = this.placement.onChange(() => this.replace());
    this.sampler = setInterval(() => this.sample(), 1000);
    this.sampler.unref();
    for (const [name, value] of Object.entries(this.options.statics ?? {})) {
      const vhost = typeof value['vhost'] === 'string' ? value['vhost'] : '/';
      this.launch(name, vhost, 'static', withoutVhost(value));
    }
    for (const p of this.broker.parameters.list({ component: SHOVEL_COMPONENT })) this.launchPlaced(p.name, p.vhost, p.value);
  }

  private get placement(): LinkPlacement {
    return this.options.placement ?? RUN_EVERYTHING_HERE;
  }

  /** A dynamic shovel starts only on the node placement picks for it. */
  private launchPlaced(name: string, vhost: string, value: unknown): void {
    if (this.placement.runsHere(shovelIdentity(vhost, name))) this.launch(name, vhost, 'dynamic', value);
  }

  /** The living nodes changed: start the dynamic shovels now placed here, stop those placed elsewhere. */
  private replace(): void {
    if (!this.running) return;
    for (const [k, shovel] of this.shovels) {
      if (shovel.type !== 'dynamic' || this.placement.runsHere(shovelIdentity(shovel.vhost, shovel.name))) continue;
      this.shovels.delete(k);
      this.options.logger.info({ shovel: shovel.name, vhost: shovel.vhost }, `shovel '${shovel.name}' now runs on another node: stopped here`);
      void shovel.stop();
    }
    for (const p of this.broker.parameters.list({ component: SHOVEL_COMPONENT })) {
      if (!this.shovels.has(key(p.vhost, p.name))) this.launchPlaced(p.name, p.vhost, p.value);
    }
  }

  private sample(): void {
    const now = Date.now();
    for (const shovel of this.shovels.values()) {
      const last = this.samples.get(shovel);
      const rate = last === undefined ? 0 : ((shovel.transferred - last.transferred) * 1000) / Math.max(1, now - last.at);
      this.samples.set(shovel, { at: now, transferred: shovel.transferred, rate: Math.round(rate * 10) / 10 });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.sampler);
    this.unsubscribe?.();
    this.unsubscribePlacement?.();
    const all = [...this.shovels.values()];
    this.shovels.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  private changed(change: ParameterChange): void {
    if (change.kind !== 'set' && change.kind !== 'deleted') return;
    const p = change.parameter;
    if (p.component !== SHOVEL_COMPONENT) return;
    const existing = this.shovels.get(key(p.vhost, p.name));
    if (existing !== undefined && existing.type === 'dynamic') {
      this.shovels.delete(key(p.vhost, p.name));
      void existing.stop();
    }
    if (change.kind === 'set') this.launchPlaced(p.name, p.vhost, p.value);
  }

  private launch(name: string, vhost: string, type: 'dynamic' | 'static', value: unknown): void {
    let spec;
    try {
      spec = parseShovel(name, value);
    } catch (error) {
      this.options.logger.warn({ shovel: name, vhost }, `shovel '${name}' not started: ${(error as Error).message}`);
      return;
    }
    const shovel = new Shovel(name, vhost, type, spec, {
      broker: this.broker,
      nodeName: this.options.nodeName,
      logger: this.options.logger,
      finished: (s) => this.finished(s),
    });
    this.shovels.set(key(vhost, name), shovel);
    shovel.start();
  }

  /** src-delete-after reached: a dynamic shovel deletes its own parameter (RabbitMQ), a static one just stops. */
  private finished(shovel: Shovel): void {
    if (shovel.type === 'dynamic') this.broker.parameters.delete(SHOVEL_COMPONENT, shovel.vhost, shovel.name);
    else {
      this.shovels.delete(key(shovel.vhost, shovel.name));
      void shovel.stop();
    }
  }

  /** Restarts a shovel (RabbitMQ's DELETE /api/shovels/vhost/{vhost}/{name}/restart). False if unknown. */
  restart(vhost: string, name: string): boolean {
    const shovel = this.shovels.get(key(vhost, name));
    if (shovel === undefined) return false;
    void shovel.stop().then(() => {
      if (this.shovels.get(key(vhost, name)) === shovel) {
        this.shovels.delete(key(vhost, name));
        this.launch(name, vhost, shovel.type, shovel.type === 'dynamic' ? this.broker.parameters.get(SHOVEL_COMPONENT, vhost, name)?.value : withoutVhost(this.options.statics?.[name] ?? {}));
      }
    });
    return true;
  }

  get(vhost: string, name: string): Shovel | undefined {
    return this.shovels.get(key(vhost, name));
  }

  status(): ShovelStatus[] {
    return [...this.shovels.values()].map((s) => {
      const src = s.spec.source;
      const dest = s.spec.dest;
      const source: Record<string, string> =
        src.kind === 'queue' ? { src_queue: src.queue } : { src_exchange: src.exchange, src_exchange_key: src.key };
      const destination: Record<string, string> =
        dest.kind === 'queue'
          ? { dest_queue: dest.queue }
          : dest.kind === 'exchange'
            ? { dest_exchange: dest.exchange, ...(dest.key === undefined ? {} : { dest_exchange_key: dest.key }) }
            : {};
      return {
        name: s.name,
        vhost: s.vhost,
        type: s.type,
        state: s.state,
        reason: s.reason,
        since: s.since,
        srcUri: redactUri(s.srcUri),
        destUri: redactUri(s.destUri),
        source,
        dest: destination,
        transferred: s.transferred,
        rate: this.samples.get(s)?.rate ?? 0,
      };
    });
  }
}

function withoutVhost(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'vhost'));
}
