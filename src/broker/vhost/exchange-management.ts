import { assertArgumentsEquivalent, assertFieldEquivalent } from '../arguments.js';
import { accessRefused, describeResource, preconditionFailed, unknownExchangeType } from '../errors.js';
import { Exchange } from '../exchanges/exchange.js';
import type { FieldTable } from '../message.js';
import { hasReservedPrefix } from '../names.js';
import { PREDECLARED_EXCHANGES, DEFAULT_EXCHANGE_REFUSED, type ExchangeDeclare } from './declarations.js';
import { VHostTopology } from './topology.js';

/** Declaring, checking, deleting and binding exchanges (the AMQP exchange.* methods). */
export abstract class ExchangeManagement extends VHostTopology {
  declareExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type);
    if (type === undefined) {
      throw unknownExchangeType(req.type);
    }
    if (req.name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const existing = this.exchangeTable.get(req.name);
    if (existing !== undefined) {
      this.assertExchangeEquivalent(existing, req);
      return existing;
    }
    if (hasReservedPrefix(req.name)) {
      throw accessRefused(`exchange name '${req.name}' contains reserved prefix 'amq.*'`);
    }
    const userExchanges = this.exchangeTable.size - PREDECLARED_EXCHANGES.length;
    if (userExchanges >= this.context.limits.maxExchanges) {
      throw preconditionFailed(
        `cannot declare exchange '${req.name}': exchange limit in vhost '${this.name}' (${this.context.limits.maxExchanges}) is reached`,
      );
    }
    type.validateDeclare?.(req.arguments, describeResource('exchange', req.name, this.name));
    return this.createExchange(req);
  }

  /** Passive declare: 404 if missing; 403 for the default exchange, as RabbitMQ. */
  checkExchange(name: string): Exchange {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    return this.requireExchange(name);
  }

  /** Deleting a missing exchange succeeds (RabbitMQ: delete is idempotent). */
  deleteExchange(name: string, ifUnused: boolean): void {
    if (name === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    if (hasReservedPrefix(name)) {
      throw accessRefused(`deletion of system ${describeResource('exchange', name, this.name)} not allowed`);
    }
    const exchange = this.exchangeTable.get(name);
    if (exchange === undefined) return;
    if (ifUnused && exchange.bindings.size !== 0) throw preconditionFailed(`${exchange.resource} in use`);
    this.destroyExchange(exchange);
  }

  bindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.requireExchange(source);
    const to = this.requireExchange(destination);
    this.addBinding(from, to, routingKey, args);
  }

  unbindExchange(destination: string, source: string, routingKey: string, args: FieldTable): void {
    if (destination === '' || source === '') throw accessRefused(DEFAULT_EXCHANGE_REFUSED);
    const from = this.requireExchange(source);
    const to = this.requireExchange(destination);
    this.removeBindingByKey(from, to, routingKey, args);
  }

  protected assertExchangeEquivalent(exchange: Exchange, req: ExchangeDeclare): void {
    const resource = exchange.resource;
    assertFieldEquivalent('type', resource, exchange.type, req.type);
    assertFieldEquivalent('durable', resource, exchange.durable, req.durable);
    assertFieldEquivalent('auto_delete', resource, exchange.autoDelete, req.autoDelete);
    assertFieldEquivalent('internal', resource, exchange.internal, req.internal);
    const keys = ['alternate-exchange', ...(exchange.exchangeType.identityArguments ?? [])];
    assertArgumentsEquivalent(resource, exchange.arguments, req.arguments, keys);
  }
}
