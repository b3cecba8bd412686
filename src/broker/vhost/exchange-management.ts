import { assertArgumentsEquivalent, assertFieldEquivalent } from '../arguments.js';
import { accessRefused, describeResource, preconditionFailed, unknownExchangeType } from '../errors.js';
import type { Exchange } from '../exchanges/exchange.js';
import type { FieldTable } from '../message.js';
import { hasReservedPrefix } from '../names.js';
import { PREDECLARED_EXCHANGES, DEFAULT_EXCHANGE_REFUSED, type ExchangeDeclare, type VHostContext } from './declarations.js';
import type { Topology } from './topology.js';

/** Declaring, checking, deleting and binding exchanges (the AMQP exchange.* methods). */
export class ExchangeManagement {
  constructor(
    /** The vhost's name, for reply texts. */
    private readonly name: string,
    private readonly context: Pick<VHostContext, 'exchangeTypes' | 'limits'>,
    private readonly topology: Topology,
  ) {}

  declareExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type);
    if (type === undefined) {
      throw unknownExchangeType(req.type);
    }
    if (req.name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const existing = this.topology.exchanges.get(req.name);
    if (existing !== undefined) {
      this.assertExchangeEquivalent(existing, req);
      return existing;
    }
    if (hasReservedPrefix(req.name)) {
      throw accessRefused(`exchange name '${req.name}' contains reserved prefix 'amq.*'`);
    }
    const userExchanges = this.topology.exchanges.size - PREDECLARED_EXCHANGES.length;
    if (userExchanges >= this.context.limits.maxExchanges) {
      throw preconditionFailed(
        `cannot declare exchange '${req.name}': exchange limit in vhost '${this.name}' (${this.context.limits.maxExchanges}) is reached`,
      );
    }
    type.validateDeclare?.(req.arguments, describeResource('exchange', req.name, this.name));
    return this.topology.createExchange(req);
  }

  /** Passive declare: 404 if missing; 403 for the default exchange, as RabbitMQ. */
  checkExchange(name: string): Exchange {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    return this.topology.requireExchange(name);
  }

  /** Deleting a missing exchange succeeds (RabbitMQ: delete is idempotent). */
  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    if (hasReservedPrefix(name)) {
      throw accessRefused(`deletion of system ${describeResource('exchange', name, this.name)} not allowed`);
    }
    const exchange = this.topology.exchanges.get(name);
    if (exchange === undefined) return;
    if (ifUnused && exchange.bindings.size !== 0) throw preconditionFailed(`${exchange.resource} in use`);
    this.topology.destroyExchange(exchange);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.topology.requireExchange(source);
    const to = this.topology.requireExchange(destination);
    this.topology.addBinding(from, to, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.topology.requireExchange(source);
    const to = this.topology.requireExchange(destination);
    this.topology.removeBindingByKey(from, to, routingKey, args);
  }

  private assertExchangeEquivalent(exchange: Exchange, req: ExchangeDeclare): void {
    const resource = exchange.resource;
    assertFieldEquivalent('type', resource, exchange.type, req.type);
    assertFieldEquivalent('durable', resource, exchange.durable, req.durable);
    assertFieldEquivalent('auto_delete', resource, exchange.autoDelete, req.autoDelete);
    assertFieldEquivalent('internal', resource, exchange.internal, req.internal);
    const keys = ['alternate-exchange', ...(exchange.exchangeType.identityArguments ?? [])];
    assertArgumentsEquivalent(resource, exchange.arguments, req.arguments, keys);
  }
}
