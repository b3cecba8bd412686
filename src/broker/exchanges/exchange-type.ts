import type { Binding, RouteSink } from '../binding.js';
import type { FieldTable } from '../message.js';
import type { Message } from '../message.js';
import type { Exchange } from './exchange.js';

/**
 * The routing logic of one exchange. Each exchange gets its own router from its type, so a router may
 * keep whatever index suits its matching (a map by key, a trie, a hash ring).
 */
export interface ExchangeRouter {
  addBinding(binding: Binding): void;
  removeBinding(binding: Binding): void;
  /** Offers every matching binding's destination to the sink. Synchronous and allocation-light: hot path. */
  route(message: Message, sink: RouteSink): void;
  /**
   * Routers that match by routing key alone (direct, topic) offer what one more key matches: the
   * sender-selected keys of a message's CC and BCC headers go through here, as RabbitMQ routes them by
   * every type that routes by key. Routers without it ignore those keys.
   */
  routeKey?(routingKey: string, sink: RouteSink): void;
  /** The exchange was deleted: drop whatever the router holds (timers, pending messages). */
  close?(): void;
  /** The broker is stopping: cancel timers, keep state. */
  stop?(): void;
}

/**
 * An exchange type ("direct", "x-consistent-hash", ...). Registered by name in an ExchangeTypeRegistry;
 * plugins add types without touching the VHost.
 */
export interface ExchangeType {
  readonly name: string;
  /** Arguments that are part of an exchange's identity on redeclare (besides 'alternate-exchange'). */
  readonly identityArguments?: readonly string[];
  /** Throws a precondition-failed BrokerError when the declare arguments are unusable (e.g. x-delayed-type missing). */
  validateDeclare?(args: FieldTable, resource: string): void;
  /** Throws a precondition-failed BrokerError when a binding's key or arguments are unusable. */
  validateBinding?(routingKey: string, args: FieldTable, exchange: Exchange): void;
  /** `exchange` is the one being created (routers that act later, like x-delayed-message, keep it). */
  createRouter(args: FieldTable, exchange: Exchange): ExchangeRouter;
}
