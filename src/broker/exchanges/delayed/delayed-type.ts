/**
 * The `x-delayed-message` exchange type (RabbitMQ's rabbitmq_delayed_message_exchange plugin): declared
 * with the argument `x-delayed-type` naming the type that routes messages once they are due.
 *
 * Deliberate difference from the plugin: a delayed message counts as routed when it is accepted, so a
 * `mandatory` publish is not returned (the plugin returns it with NO_ROUTE at once and still delivers
 * it later) and the alternate exchange is consulted only when the message is due and routes nowhere.
 * Mandatory is not honoured at due time: there may be no publisher connection left to return it to.
 */
import { preconditionFailed, unknownExchangeType } from '../../errors.js';
import { fieldString, type FieldTable } from '../../message.js';
import type { Exchange } from '../exchange.js';
import type { ExchangeType } from '../exchange-type.js';
import type { ExchangeTypeRegistry } from '../registry.js';
import { DelayedMessageRouter, type DelayedRouterOptions } from './delayed-router.js';

export const DELAYED_MESSAGE_TYPE = 'x-delayed-message';
export const DELAYED_TYPE_ARGUMENT = 'x-delayed-type';

const MISSING_TYPE_TEXT = "Invalid argument, 'x-delayed-type' must be an existing exchange type";

/**
 * The type for one registry: `x-delayed-type` is looked up in that registry, so plugin types registered
 * there (x-consistent-hash) can be delayed too.
 */
export function createDelayedMessageType(
  registry: ExchangeTypeRegistry,
  options: DelayedRouterOptions = {},
): ExchangeType {
  const innerType = (args: FieldTable): ExchangeType => {
    const name = fieldString(args[DELAYED_TYPE_ARGUMENT]);
    if (name === undefined || name === DELAYED_MESSAGE_TYPE) throw preconditionFailed(MISSING_TYPE_TEXT);
    const type = registry.get(name);
    // rabbit_exchange:check_type: an unknown type is a connection error, as for exchange.declare itself.
    if (type === undefined) throw unknownExchangeType(name);
    return type;
  };
  return {
    name: DELAYED_MESSAGE_TYPE,
    validateDeclare(args, resource) {
      innerType(args).validateDeclare?.(args, resource);
    },
    validateBinding(routingKey, args, exchange: Exchange) {
      innerType(exchange.arguments).validateBinding?.(routingKey, args, exchange);
    },
    createRouter(args, exchange) {
      return new DelayedMessageRouter(exchange, innerType(args).createRouter(args, exchange), options);
    },
  };
}
