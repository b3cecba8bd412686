import type { FieldTable } from './message.js';
import type { Exchange } from './exchanges/exchange.js';
import type { Queue } from './queue/queue.js';

/** What a binding points at. Both kinds carry a `routeMark` so routing can visit each at most once. */
export type BindingDestination = Queue | Exchange;

/** The arguments of every binding that has none: one shared object instead of one per binding. */
const NO_ARGUMENTS: FieldTable = Object.freeze({});

function isEmpty(table: FieldTable): boolean {
  for (const _ in table) return false;
  return true;
}

/**
 * One binding: messages the source's routing logic matches with (routingKey, arguments) go to the
 * destination. Identity is (source, destination, routing key, arguments), as in RabbitMQ: binding twice
 * is a no-op, and an unbind must name the same key and arguments.
 */
export class Binding {
  readonly arguments: FieldTable;

  constructor(
    readonly source: Exchange,
    readonly destination: BindingDestination,
    readonly routingKey: string,
    args: FieldTable,
    /** Identity within the source exchange (see `bindingIdentity`). */
    readonly identity: string,
  ) {
    this.arguments = isEmpty(args) ? NO_ARGUMENTS : args;
  }
}

export function bindingIdentity(destination: BindingDestination, routingKey: string, argumentsKey: string): string {
  return `${destination.kind === 'queue' ? 'q' : 'x'}\u0000${destination.name}\u0000${routingKey}\u0000${argumentsKey}`;
}

/** Receives routing results. Destinations may be offered several times; the sink keeps the first. */
export interface RouteSink {
  add(destination: BindingDestination): void;
  /**
   * The exchange took the message to route it later (x-delayed-message): it counts as routed for the
   * publisher (no basic.return) and the alternate exchange is not consulted now.
   */
  hold?(): void;
}

/**
 * Collects the queues one publish reaches, following exchange-to-exchange bindings. A destination is
 * taken only if its routeMark differs from this route's epoch, so a queue reachable along several paths
 * (or through a binding loop) gets the message once, with no Set allocated per publish.
 */
export class RouteCollector implements RouteSink {
  epoch = 0;
  readonly queues: Queue[] = [];
  /** Exchanges reached through e2e bindings and not yet routed through. */
  readonly pending: Exchange[] = [];
  /** Messages an exchange kept to route later (see RouteSink.hold). */
  held = 0;

  begin(epoch: number): void {
    this.epoch = epoch;
    this.queues.length = 0;
    this.pending.length = 0;
    this.held = 0;
  }

  hold(): void {
    this.held++;
  }

  add(destination: BindingDestination): void {
    if (destination.routeMark === this.epoch) return;
    destination.routeMark = this.epoch;
    if (destination.kind === 'queue') this.queues.push(destination);
    else this.pending.push(destination);
  }

  /**
   * Marks a destination as reached without collecting it: the exchange routed through first, or a
   * queue that already has the message.
   */
  visit(destination: BindingDestination): void {
    destination.routeMark = this.epoch;
  }
}
