import type { Binding, RouteSink } from '../binding.js';
import type { Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';

/** Exact routing-key match: one Map lookup per publish. */
export class DirectRouter implements ExchangeRouter {
  private readonly byKey = new Map<string, Binding[]>();

  addBinding(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (list === undefined) this.byKey.set(binding.routingKey, [binding]);
    else list.push(binding);
  }

  removeBinding(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey);
    if (list === undefined) return;
    const index = list.indexOf(binding);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.byKey.delete(binding.routingKey);
  }

  route(message: Message, sink: RouteSink): void {
    this.routeKey(message.routingKey, sink);
  }

  routeKey(routingKey: string, sink: RouteSink): void {
    const list = this.byKey.get(routingKey);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) sink.add(list[i]!.destination);
  }
}

export const directExchangeType: ExchangeType = {
  name: 'direct',
  createRouter: () => new DirectRouter(),
};
