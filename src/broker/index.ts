/** The broker core's public API (see CONTRACT.md). Front doors import from here. */
export { Broker, DEFAULT_LIMITS, DEFAULT_VHOST, type BrokerOptions } from './broker.js';
export {
  VHost,
  type BrokerLimits,
  type ExchangeDeclare,
  type PublishOutcome,
  type QueueDeclare,
} from './vhost.js';
export { Queue, DISPATCH_BATCH } from './queue/queue.js';
export type { QueueView } from './queue-view.js';
export { QueueCounters } from './queue/counters.js';
export { Exchange, ExchangeCounters } from './exchanges/exchange.js';
export type { ExchangeRouter, ExchangeType } from './exchanges/exchange-type.js';
export { ExchangeTypeRegistry } from './exchanges/registry.js';
export { topicWords } from './exchanges/topic.js';
export { Binding, type BindingDestination, type RouteSink } from './binding.js';
export { DefinitionJournal, type DefinitionObserver } from './persistence/definitions.js';
export { REPLY_TO_PREFIX, REPLY_TO_QUEUE, SERVER_NAMED_PREFIX } from './names.js';
export type { Consumer, QueueEntry, SessionOwner } from './front-door.js';
export * from './errors.js';
export * from './message.js';
