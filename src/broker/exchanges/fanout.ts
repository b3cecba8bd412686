import type { Binding, RouteSink } from '../binding.js';
import type { Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';

/** Every bound destination gets every message; routing keys are ignored. */
export class FanoutRouter implements ExchangeRouter {
  private readonly bindings: Binding[] = [];

  addBinding(binding: Binding): void {
    this.bindings.push(binding);
  }

  removeBinding(binding: Binding): void {
    const index = this.bindings.indexOf(binding);
    if (index >= 0) this.bindings.splice(index, 1);
  }

  route(_message: Message, sink: RouteSink): void {
    const bindings = this.bindings;
    for (let i = 0; i < bindings.length; i++) sink.add(bindings[i]!.destination);
  }
}

export const fanoutExchangeType: ExchangeType = {
  name: 'fanout',
  createRouter: () => new FanoutRouter(),
};
