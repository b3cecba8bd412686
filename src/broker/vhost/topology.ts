import { fieldTableKey } from '../arguments.js';
import { Binding, bindingIdentity, type BindingDestination } from '../binding.js';
import type { SessionOwner } from '../front-door.js';
import { notFound } from '../errors.js';
import { Exchange } from '../exchanges/exchange.js';
import type { FieldTable } from '../message.js';
import type { VHostPolicies } from '../policies/vhost-policies.js';
import type { Queue } from '../queue/queue.js';
import type { VHost } from '../vhost.js';
import type { ExchangeDeclare, VHostContext } from './declarations.js';

/**
 * The tables of one vhost (exchanges and queues by name) and the bindings that link them: what the
 * exchange and queue management and the routing of publishes all look up and change.
 */
export class Topology {
  readonly exchanges = new Map<string, Exchange>();
  readonly queues = new Map<string, Queue>();

  constructor(
    private readonly vhost: VHost,
    private readonly context: VHostContext,
    private readonly policies: VHostPolicies,
  ) {}

  /** 404 "no exchange 'x' in vhost '/'" when missing. */
  requireExchange(name: string): Exchange {
    const exchange = this.exchanges.get(name);
    if (exchange === undefined) throw notFound('exchange', name, this.vhost.name);
    return exchange;
  }

  /** 404 when missing, 405 when another connection holds it exclusively. */
  accessibleQueue(name: string, owner: SessionOwner): Queue {
    const queue = this.queues.get(name);
    if (queue === undefined) throw notFound('queue', name, this.vhost.name);
    queue.checkAccess(owner);
    return queue;
  }

  /** A new exchange (already validated): in the table, given its policy, recorded if durable. */
  createExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type)!;
    const exchange = new Exchange(this.vhost, req.name, type, req.durable, req.autoDelete, req.internal, req.arguments);
    this.exchanges.set(req.name, exchange);
    this.policies.attach(exchange);
    this.context.definitions.exchangeCreated(exchange);
    return exchange;
  }

  destroyExchange(exchange: Exchange): void {
    if (exchange.deleted) return;
    exchange.deleted = true;
    this.exchanges.delete(exchange.name);
    // Its outgoing bindings die with it; incoming ones are removed properly (their sources may auto-delete).
    for (const binding of exchange.bindings.values()) {
      unlinkDestination(binding);
      this.context.definitions.bindingRemoved(binding);
    }
    exchange.bindings.clear();
    this.context.definitions.exchangeDeleted(exchange);
    exchange.router.close?.();
    for (const binding of [...exchange.inbound]) this.removeBinding(binding);
    this.context.logger.debug({ vhost: this.vhost.name, exchange: exchange.name }, 'exchange deleted');
  }

  /** Binding twice is a no-op (same identity). */
  addBinding(source: Exchange, destination: BindingDestination, routingKey: string, args: FieldTable): void {
    const identity = bindingIdentity(destination, routingKey, fieldTableKey(args));
    if (source.bindings.has(identity)) return;
    source.exchangeType.validateBinding?.(routingKey, args, source);
    const binding = new Binding(source, destination, routingKey, args, identity);
    source.bindings.set(identity, binding);
    source.router.addBinding(binding);
    if (destination.kind === 'queue') destination.bindings.add(binding);
    else destination.inbound.add(binding);
    this.context.definitions.bindingAdded(binding);
  }

  /** Unbinding what is not bound succeeds (RabbitMQ). */
  removeBindingByKey(source: Exchange, destination: BindingDestination, routingKey: string, args: FieldTable): void {
    const binding = source.bindings.get(bindingIdentity(destination, routingKey, fieldTableKey(args)));
    if (binding !== undefined) this.removeBinding(binding);
  }

  /** Unlinks a binding from both ends; an auto-delete source losing its last binding is deleted. */
  removeBinding(binding: Binding): void {
    const source = binding.source;
    if (!source.bindings.delete(binding.identity)) return;
    source.router.removeBinding(binding);
    unlinkDestination(binding);
    this.context.definitions.bindingRemoved(binding);
    if (source.autoDelete && source.bindings.size === 0) this.destroyExchange(source);
  }
}

/** The binding leaves its destination's list (a queue's bindings, an exchange's inbound ones). */
function unlinkDestination(binding: Binding): void {
  const destination = binding.destination;
  if (destination.kind === 'queue') destination.bindings.delete(binding);
  else destination.inbound.delete(binding);
}
