import { consistentHashExchangeType } from './consistent-hash.js';
import type { DelayedRouterOptions } from './delayed/delayed-router.js';
import { createDelayedMessageType } from './delayed/delayed-type.js';
import { directExchangeType } from './direct.js';
import type { ExchangeType } from './exchange-type.js';
import { fanoutExchangeType } from './fanout.js';
import { headersExchangeType } from './headers.js';
import { topicExchangeType } from './topic.js';
import { superStreamExchangeType } from '../stream/super-stream.js';

/** Exchange types by name. One per Broker (no module-level state), so tests can register their own. */
export class ExchangeTypeRegistry {
  private readonly types = new Map<string, ExchangeType>();

  /**
   * A registry with AMQP's four standard types plus the two RabbitMQ plugin types Warren has built in:
   * x-consistent-hash and x-delayed-message (which delays for any type in this registry; `delayed`
   * gives it the store that keeps durable exchanges' pending messages).
   */
  static withBuiltins(delayed: DelayedRouterOptions = {}): ExchangeTypeRegistry {
    const registry = new ExchangeTypeRegistry();
    for (const type of [directExchangeType, fanoutExchangeType, topicExchangeType, headersExchangeType]) {
      registry.register(type);
    }
    registry.register(consistentHashExchangeType);
    registry.register(superStreamExchangeType);
    registry.register(createDelayedMessageType(registry, delayed));
    return registry;
  }

  /** Adds or replaces a type. Existing exchanges keep the router they were created with. */
  register(type: ExchangeType): void {
    this.types.set(type.name, type);
  }

  get(name: string): ExchangeType | undefined {
    return this.types.get(name);
  }

  names(): string[] {
    return [...this.types.keys()];
  }
}
