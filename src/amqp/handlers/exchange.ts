import { MethodId, type ExchangeBind, type ExchangeDeclare, type ExchangeDelete, type ExchangeUnbind } from '../spec/generated.js';
import type { Channel } from '../channel.js';
import { assertNotDefaultExchange } from './names.js';
import type { HandlerTable } from './types.js';

function declare(ch: Channel, a: ExchangeDeclare): void {
  const name = a.exchange;
  assertNotDefaultExchange(name);
  if (a.passive) {
    ch.vhost.checkExchange(name);
  } else {
    ch.access.declareExchange(name);
    // The core refuses new amq.* names but, as RabbitMQ, lets existing ones be redeclared equivalently.
    ch.vhost.declareExchange({
      name,
      type: a.type,
      durable: a.durable,
      autoDelete: a.autoDelete,
      internal: a.internal,
      arguments: a.arguments,
    });
  }
  if (!a.noWait) ch.send({ id: MethodId.ExchangeDeclareOk, args: {} });
}

function remove(ch: Channel, a: ExchangeDelete): void {
  const name = a.exchange;
  assertNotDefaultExchange(name);
  ch.access.deleteExchange(name);
  // Idempotent in the core: deleting a missing exchange succeeds, as in RabbitMQ 3.x.
  ch.vhost.deleteExchange(name, a.ifUnused);
  if (!a.noWait) ch.send({ id: MethodId.ExchangeDeleteOk, args: {} });
}

/** exchange.bind/unbind: write on the destination, read on the source. */
function authorizeBinding(ch: Channel, destination: string, source: string): void {
  assertNotDefaultExchange(destination);
  assertNotDefaultExchange(source);
  ch.access.bind('exchange', destination, source);
}

function bind(ch: Channel, a: ExchangeBind): void {
  authorizeBinding(ch, a.destination, a.source);
  ch.vhost.bindExchange(a.destination, a.source, a.routingKey, a.arguments);
  if (!a.noWait) ch.send({ id: MethodId.ExchangeBindOk, args: {} });
}

function unbind(ch: Channel, a: ExchangeUnbind): void {
  authorizeBinding(ch, a.destination, a.source);
  ch.vhost.unbindExchange(a.destination, a.source, a.routingKey, a.arguments);
  if (!a.noWait) ch.send({ id: MethodId.ExchangeUnbindOk, args: {} });
}

export const exchangeHandlers: HandlerTable = {
  [MethodId.ExchangeDeclare]: declare,
  [MethodId.ExchangeDelete]: remove,
  [MethodId.ExchangeBind]: bind,
  [MethodId.ExchangeUnbind]: unbind,
};
