import type { Logger } from 'pino';
import { fieldTableKey } from '../arguments.js';
import { Binding, bindingIdentity, RouteCollector, type BindingDestination } from '../binding.js';
import type { SessionOwner } from '../front-door.js';
import { notFound } from '../errors.js';
import { Exchange } from '../exchanges/exchange.js';
import type { FieldTable } from '../message.js';
import { REPLY_TO_QUEUE } from '../names.js';
import { VHostPolicies } from '../policies/vhost-policies.js';
import { Queue } from '../queue/queue.js';
import { DirectReplyTo } from '../reply-to.js';
import { PREDECLARED_EXCHANGES, type ExchangeDeclare, type VHostContext } from './declarations.js';
import type { VHost } from '../vhost.js';

/**
 * The tables of one vhost (exchanges, queues, exclusive owners) and the bindings that link them. A VHost
 * is built in layers, one file per concern, each extending the one before: this topology;
 * exchange-management.ts; queue-management.ts (queues and their exclusive owners); publishing.ts
 * (routing, dead letters, direct reply-to); ../vhost.ts (the VHost everyone uses).
 * VHost is the only concrete class, so `this` is a VHost wherever one is handed out (see `self`).
 */
export abstract class VHostTopology {
  protected readonly exchangeTable = new Map<string, Exchange>();
  protected readonly queueTable = new Map<string, Queue>();
  protected readonly ownedQueues = new Map<SessionOwner, Set<Queue>>();
  protected readonly replyTo = new DirectReplyTo();
  protected readonly collector = new RouteCollector();
  protected routeEpoch = 0;
  /** Nesting depth of publish (a consumer may publish from inside deliver). */
  protected publishDepth = 0;
  protected readonly defaultExchange: Exchange;
  /** The pseudo queue direct reply-to deliveries carry; not in `queues`. */
  readonly replyToQueue: Queue;
  /** Policies of this vhost (src/broker/policies/README.md). */
  readonly policies: VHostPolicies;

  constructor(
    readonly name: string,
    protected readonly context: VHostContext,
  ) {
    this.policies = new VHostPolicies(name, this);
    for (const [exchangeName, type, internal] of PREDECLARED_EXCHANGES) {
      this.createExchange({ name: exchangeName, type, durable: true, autoDelete: false, internal, arguments: {} });
    }
    this.defaultExchange = this.exchangeTable.get('')!;
    this.replyToQueue = new Queue(this.self, REPLY_TO_QUEUE, {
      durable: false,
      autoDelete: false,
      exclusiveOwner: undefined,
      arguments: {},
      directReplyTo: true,
    });
  }

  /** This vhost as the VHost it always is (the only concrete subclass), for objects that keep one. */
  protected get self(): VHost {
    return this as unknown as VHost;
  }

  get exchanges(): ReadonlyMap<string, Exchange> {
    return this.exchangeTable;
  }

  get queues(): ReadonlyMap<string, Queue> {
    return this.queueTable;
  }

  get logger(): Logger {
    return this.context.logger;
  }

  getExchange(name: string): Exchange | undefined {
    return this.exchangeTable.get(name);
  }

  getQueue(name: string): Queue | undefined {
    return this.queueTable.get(name);
  }

  protected requireExchange(name: string): Exchange {
    const exchange = this.exchangeTable.get(name);
    if (exchange === undefined) throw notFound('exchange', name, this.name);
    return exchange;
  }

  protected accessibleQueue(name: string, owner: SessionOwner): Queue {
    const queue = this.queueTable.get(name);
    if (queue === undefined) throw notFound('queue', name, this.name);
    queue.checkAccess(owner);
    return queue;
  }

  protected createExchange(req: ExchangeDeclare): Exchange {
    const type = this.context.exchangeTypes.get(req.type)!;
    const exchange = new Exchange(
      this.self,
      req.name,
      type,
      req.durable,
      req.autoDelete,
      req.internal,
      req.arguments,
    );
    this.exchangeTable.set(req.name, exchange);
    this.policies.attach(exchange);
    this.context.definitions.exchangeCreated(exchange);
    return exchange;
  }

  protected destroyExchange(exchange: Exchange): void {
    if (exchange.deleted) return;
    exchange.deleted = true;
    this.exchangeTable.delete(exchange.name);
    // Its outgoing bindings die with it; incoming ones are removed properly (their sources may auto-delete).
    for (const binding of exchange.bindings.values()) {
      const destination = binding.destination;
      if (destination.kind === 'queue') destination.bindings.delete(binding);
      else destination.inbound.delete(binding);
      this.context.definitions.bindingRemoved(binding);
    }
    exchange.bindings.clear();
    this.context.definitions.exchangeDeleted(exchange);
    exchange.router.close?.();
    for (const binding of [...exchange.inbound]) this.removeBinding(binding);
    this.context.logger.debug({ vhost: this.name, exchange: exchange.name }, 'exchange deleted');
  }

  protected addBinding(source: Exchange, destination: BindingDestination, routingKey: string, args: FieldTable): void {
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

  protected removeBindingByKey(
    source: Exchange,
    destination: BindingDestination,
    routingKey: string,
    args: FieldTable,
  ): void {
    const binding = source.bindings.get(bindingIdentity(destination, routingKey, fieldTableKey(args)));
    if (binding !== undefined) this.removeBinding(binding);
  }

  /** Unlinks a binding from both ends; an auto-delete source losing its last binding is deleted. */
  protected removeBinding(binding: Binding): void {
    const source = binding.source;
    if (!source.bindings.delete(binding.identity)) return;
    source.router.removeBinding(binding);
    const destination = binding.destination;
    if (destination.kind === 'queue') destination.bindings.delete(binding);
    else destination.inbound.delete(binding);
    this.context.definitions.bindingRemoved(binding);
    if (source.autoDelete && source.bindings.size === 0) this.destroyExchange(source);
  }
}
