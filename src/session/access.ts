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
    /** The MQTT client id, for `{client_id}` in topic permissions. */
    private readonly clientId?: string,
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

  /** Topic permissions (write): a publish's routing key on a topic exchange. */
  publishTopic(exchange: string, routingKey: string): void {
    // Without topic permissions everything is allowed: no variables object per publish.
    if (!this.users.hasTopicPermissions(this.user.name, this.vhost)) return;
    this.users.authorizeTopic('write', this.topicVariables(), exchange, routingKey);
  }

  /** Topic permissions (read): a binding key on a topic exchange (an MQTT/STOMP subscription, queue.bind). */
  readTopic(exchange: string, routingKey: string): void {
    this.users.authorizeTopic('read', this.topicVariables(), exchange, routingKey);
  }

  /**
   * Topic permissions for a door that routes to any exchange (AMQP, STOMP): checked only when the
   * exchange is a topic exchange, as RabbitMQ does, and only looked up when the user has any.
   */
  publishTopicIfTopic(exchangeType: () => string | undefined, exchange: string, routingKey: string): void {
    if (this.users.hasTopicPermissions(this.user.name, this.vhost) && exchangeType() === 'topic') this.publishTopic(exchange, routingKey);
  }

  readTopicIfTopic(exchangeType: () => string | undefined, exchange: string, routingKey: string): void {
    if (this.users.hasTopicPermissions(this.user.name, this.vhost) && exchangeType() === 'topic') this.readTopic(exchange, routingKey);
  }

  private topicVariables(): { username: string; vhost: string; clientId?: string } {
    return this.clientId === undefined ? { username: this.user.name, vhost: this.vhost } : { username: this.user.name, vhost: this.vhost, clientId: this.clientId };
  }

  /** Publish to an exchange ('' is checked as amq.default); cached per session, as RabbitMQ does. */
  publish(exchange: string): void {
    if (this.writableExchanges.has(exchange)) return;
    this.users.authorize(this.user, this.vhost, 'write', 'exchange', exchange);
    if (this.writableExchanges.size >= 64) this.writableExchanges.clear();
    this.writableExchanges.add(exchange);
  }
}
