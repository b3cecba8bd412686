import type { User, UserRegistry } from '../auth/users.js';

/**
 * RabbitMQ's permission rules per operation (rabbit_access_control; docs "Access Control"), for one
 * user in one vhost. Every front door asks here before it calls the core, so the rules live in one
 * place: configure to declare or delete, write to publish or be bound to, read to consume, get, purge
 * or bind from. A refusal is an access-refused BrokerError with RabbitMQ's text.
 */
export class SessionAccess {
  /** Exchanges this user was already allowed to publish to (RabbitMQ caches these checks too). */
  private readonly writableExchanges = new Set<string>();

  constructor(
    private readonly users: UserRegistry,
    private readonly user: User,
    readonly vhost: string,
  ) {}

  declareQueue(queue: string): void {
    this.users.authorize(this.user, this.vhost, 'configure', 'queue', queue);
  }

  deleteQueue(queue: string): void {
    this.users.authorize(this.user, this.vhost, 'configure', 'queue', queue);
  }

  declareExchange(exchange: string): void {
    this.users.authorize(this.user, this.vhost, 'configure', 'exchange', exchange);
  }

  deleteExchange(exchange: string): void {
    this.users.authorize(this.user, this.vhost, 'configure', 'exchange', exchange);
  }

  /** Consume from, get from, or purge a queue. */
  readQueue(queue: string): void {
    this.users.authorize(this.user, this.vhost, 'read', 'queue', queue);
  }

  /** Put messages into a queue directly (the management API's move). */
  writeQueue(queue: string): void {
    this.users.authorize(this.user, this.vhost, 'write', 'queue', queue);
  }

  /** Bind or unbind: write on the destination (queue or exchange), read on the source exchange. */
  bind(destinationKind: 'queue' | 'exchange', destination: string, source: string): void {
    this.users.authorize(this.user, this.vhost, 'write', destinationKind, destination);
    this.users.authorize(this.user, this.vhost, 'read', 'exchange', source);
  }

  /** Publish to an exchange ('' is checked as amq.default); cached per session, as RabbitMQ does. */
  publish(exchange: string): void {
    if (this.writableExchanges.has(exchange)) return;
    this.users.authorize(this.user, this.vhost, 'write', 'exchange', exchange);
    if (this.writableExchanges.size >= 64) this.writableExchanges.clear();
    this.writableExchanges.add(exchange);
  }
}
