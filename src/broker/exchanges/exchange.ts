import type { Binding } from '../binding.js';
import { describeResource } from '../errors.js';
import { fieldString, type FieldTable } from '../message.js';
import { resolveExchangeSettings } from '../policies/effective.js';
import type { Policy } from '../policies/policy.js';
import type { VHost } from '../vhost.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';

/** Running totals for metrics. */
export class ExchangeCounters {
  /** Messages published to this exchange by clients. */
  publishedIn = 0;
  /** Of those, how many reached no queue at all. */
  unroutable = 0;
}

export class Exchange {
  readonly kind = 'exchange' as const;
  /** Routing epoch this exchange was last visited in (see RouteCollector). */
  routeMark = 0;
  readonly counters = new ExchangeCounters();
  /** Bindings with this exchange as source, by identity. */
  readonly bindings = new Map<string, Binding>();
  /** Bindings with this exchange as destination (exchange-to-exchange). */
  readonly inbound = new Set<Binding>();
  readonly router: ExchangeRouter;
  /** Where messages go that this exchange routes nowhere: the 'alternate-exchange' argument, else the policy's. */
  alternateExchange: string | undefined;
  deleted = false;
  readonly arguments: FieldTable;

  constructor(
    readonly vhost: VHost,
    readonly name: string,
    readonly exchangeType: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    args: FieldTable,
  ) {
    this.arguments = args;
    this.router = exchangeType.createRouter(args, this);
    this.alternateExchange = fieldString(args['alternate-exchange']);
  }

  /** The vhost's policies changed what applies here (see policies/README.md). */
  applyPolicy(policy: Policy | undefined): void {
    this.alternateExchange = resolveExchangeSettings(this.arguments, policy).alternateExchange;
  }

  get type(): string {
    return this.exchangeType.name;
  }

  /** "exchange 'x' in vhost '/'" for reply texts. */
  get resource(): string {
    return describeResource('exchange', this.name, this.vhost.name);
  }
}
