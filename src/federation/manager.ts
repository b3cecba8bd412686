/**
 * Federation of one broker: the upstream parameters, and the links that policies ask for. A policy
 * with `federation-upstream` (one upstream) or `federation-upstream-set` (a set, or 'all') makes each
 * matching exchange or queue receive from those upstreams. The manager reconciles the running links
 * with what the policies and parameters say on a short timer (no event in the core tells of every
 * exchange, queue, binding and consumer change, and a round over the vhosts is cheap); the same round
 * lets exchange links follow their exchange's bindings and queue links follow their consumers.
 */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { PolicyTarget } from '../broker/policies/vhost-policies.js';
import { FederationLink, type LinkKind } from './link.js';
import { parseUpstream, parseUpstreamSet, UPSTREAM_COMPONENT, UPSTREAM_SET_COMPONENT, type UpstreamSpec } from './upstream.js';
import { redactUri } from '../util/uri-secrets.js';
import { RUN_EVERYTHING_HERE, type LinkPlacement } from '../shovel/placement.js';

export interface FederationManagerOptions {
  readonly nodeName: string;
  readonly logger: Logger;
  /** How often links are reconciled (default 250 ms). */
  readonly intervalMs?: number;
  /** Which links run on this node (in a cluster, one node each); default all. */
  readonly placement?: LinkPlacement;
}

interface WantedLink {
  vhost: string;
  kind: LinkKind;
  local: string;
  upstreamName: string;
  upstream: UpstreamSpec;
}

export class FederationManager {
  private readonly links = new Map<string, FederationLink>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly options: FederationManagerOptions,
  ) {
    broker.parameters.registerComponent({ name: UPSTREAM_COMPONENT, validate: (_vhost, name, value) => void parseUpstream(name, value) });
    broker.parameters.registerComponent({ name: UPSTREAM_SET_COMPONENT, validate: (_vhost, name, value) => void parseUpstreamSet(name, value) });
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.reconcile(), this.options.intervalMs ?? 250);
    this.timer.unref();
    this.reconcile();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const all = [...this.links.values()];
    this.links.clear();
    await Promise.all(all.map((link) => link.stop()));
  }

  /** This broker's name in x-received-from and in the names of the queues its links keep upstream. */
  identity(): string {
    const value = this.broker.parameters.getGlobal('cluster_name')?.value;
    return typeof value === 'string' ? value : this.options.nodeName;
  }

  private reconcile(): void {
    const wanted = this.wanted();
    for (const [key, link] of this.links) {
      if (wanted.has(key)) continue;
      this.links.delete(key);
      void link.stop();
    }
    for (const [key, w] of wanted) {
      if (this.links.has(key)) continue;
      const link = new FederationLink(w.vhost, w.kind, w.local, w.upstreamName, w.upstream, {
        broker: this.broker,
        logger: this.options.logger,
        identity: () => this.identity(),
      });
      this.links.set(key, link);
      link.start();
    }
    for (const link of this.links.values()) link.tick();
  }

  /** Every link the policies ask for, keyed by what it is made of (a changed upstream is a new link). */
  private wanted(): Map<string, WantedLink> {
    const wanted = new Map<string, WantedLink>();
    if (this.broker.parameters.list({ component: UPSTREAM_COMPONENT }).length === 0) return wanted;
    const placement = this.options.placement ?? RUN_EVERYTHING_HERE;
    for (const vhost of this.broker.vhosts.values()) {
      if (vhost.policies.size === 0) continue;
      const add = (kind: LinkKind, target: PolicyTarget): void => {
        for (const [upstreamName, upstream] of this.upstreamsFor(vhost.name, vhost.policies.policyOf(target)?.definition)) {
          if (!placement.runsHere(JSON.stringify(['federation', vhost.name, kind, target.name, upstreamName]))) continue;
          const w = { vhost: vhost.name, kind, local: target.name, upstreamName, upstream };
          wanted.set(JSON.stringify([w.vhost, kind, w.local, upstreamName, upstream]), w);
        }
      };
      for (const exchange of vhost.exchanges.values()) if (exchange.name !== '' && !exchange.name.startsWith('amq.')) add('exchange', exchange);
      for (const queue of vhost.queues.values()) if (queue.exclusiveOwner === undefined) add('queue', queue);
    }
    return wanted;
  }

  /** The upstreams a policy names, with an upstream set's overrides applied. Unknown names are skipped. */
  private upstreamsFor(vhost: string, definition: Readonly<Record<string, unknown>> | undefined): [string, UpstreamSpec][] {
    if (definition === undefined) return [];
    const single = definition['federation-upstream'];
    const set = definition['federation-upstream-set'];
    const parameters = this.broker.parameters;
    let entries: { upstream: string; overrides: Record<string, unknown> }[] = [];
    if (typeof single === 'string') entries = [{ upstream: single, overrides: {} }];
    else if (set === 'all') entries = parameters.list({ component: UPSTREAM_COMPONENT, vhost }).map((p) => ({ upstream: p.name, overrides: {} }));
    else if (typeof set === 'string') {
      const value = parameters.get(UPSTREAM_SET_COMPONENT, vhost, set)?.value;
      if (value !== undefined) entries = parseUpstreamSet(set, value);
    }
    const out: [string, UpstreamSpec][] = [];
    for (const { upstream, overrides } of entries) {
      const base = parameters.get(UPSTREAM_COMPONENT, vhost, upstream)?.value;
      if (base === null || typeof base !== 'object') continue;
      try {
        out.push([upstream, parseUpstream(upstream, { ...(base as Record<string, unknown>), ...overrides })]);
      } catch (error) {
        this.options.logger.warn({ vhost, upstream }, `federation upstream '${upstream}' not used: ${(error as Error).message}`);
      }
    }
    return out;
  }

  /** /api/federation-links rows (RabbitMQ's shape; the URI without its password). */
  status(): (Record<string, unknown> & { vhost: string; status: string })[] {
    return [...this.links.values()].map((link) => {
      const own = link.kind === 'exchange' ? { exchange: link.local, upstream_exchange: link.upstreamObject } : { queue: link.local, upstream_queue: link.upstreamObject };
      return {
        vhost: link.vhost,
        id: `${link.kind}:${link.vhost}:${link.local}:${link.upstreamName}`,
        type: link.kind,
        ...own,
        upstream: link.upstreamName,
        uri: redactUri(link.uri),
        status: link.status,
        // RabbitMQ names its local (direct) connection; Warren's links have none: the upstream connection's name.
        local_connection: `Federation link (upstream: ${link.upstreamName}, policy target: ${link.local})`,
        ...(link.error === undefined ? {} : { error: link.error }),
        timestamp: link.since.toISOString().replace('T', ' ').slice(0, 19),
        messages_received: link.received,
      };
    });
  }
}
