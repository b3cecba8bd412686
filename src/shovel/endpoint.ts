/**
 * The two ends of a shovel (and of a federation link), whatever broker they are on: Warren itself
 * (`local-endpoint.ts`, straight through the core) or any AMQP 0-9-1 broker (`amqp-endpoint.ts`,
 * through amqplib). The shovel only moves `ShovelMessage`s between them and settles deliveries.
 */
import type { BasicProperties } from '../broker/message.js';

export interface ShovelMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  readonly body: Buffer;
  readonly redelivered: boolean;
}

/** A message taken from a source, not yet settled there. `token` is the endpoint's own handle. */
export interface SourceDelivery {
  readonly message: ShovelMessage;
  readonly token: unknown;
}

/** What a source consumes: a queue, or an exchange through a queue of its own bound with a key. */
export type SourceTarget =
  | { readonly kind: 'queue'; readonly queue: string; readonly queueArgs: Record<string, unknown> | undefined; readonly declare: boolean }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly keys: readonly string[]; readonly queueName?: string; readonly queueArgs?: Record<string, unknown> };

export interface SourceOptions {
  readonly target: SourceTarget;
  readonly prefetch: number;
  readonly noAck: boolean;
  /** Open without consuming until `resume()` (a federated queue pulls only while its consumers are idle). */
  readonly startPaused?: boolean;
}

export interface ShovelSource {
  /** Declares what it needs and starts consuming. Resolves with the source queue's ready count at start. */
  open(onMessage: (delivery: SourceDelivery) => void, onFailure: (error: Error) => void): Promise<{ queueLength: number }>;
  ack(delivery: SourceDelivery): void;
  /** Back to the source queue (requeued), to be delivered again. */
  requeue(delivery: SourceDelivery): void;
  /** Stop and start consuming (the connection and declarations stay). */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** The source broker's `cluster_name` server property, once open (RabbitMQ announces one). */
  readonly peerClusterName?: string | undefined;
  /** For federated exchanges: follow the local bindings upstream. Only for exchange targets. */
  bind?(key: string): Promise<void>;
  unbind?(key: string): Promise<void>;
  /** Stops consuming; unsettled deliveries go back to the source. Never throws. */
  close(): Promise<void>;
}

export type DestTarget =
  | { readonly kind: 'queue'; readonly queue: string; readonly queueArgs: Record<string, unknown> | undefined }
  | { readonly kind: 'exchange'; readonly exchange: string }
  | { readonly kind: 'original' };

export interface ShovelDestination {
  open(onFailure: (error: Error) => void): Promise<void>;
  /**
   * Publishes. With `onSettled` the destination confirms (publisher confirms): called with true once the
   * destination has taken responsibility for the message, false when it refused it.
   */
  publish(exchange: string, routingKey: string, properties: BasicProperties, body: Buffer, onSettled?: (ok: boolean) => void): void;
  /** Never throws. Unconfirmed publishes are forgotten (the source still holds their deliveries). */
  close(): Promise<void>;
}
