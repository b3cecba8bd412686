import type { Broker } from '../../broker/broker.js';
import type { QueueView } from '../../broker/queue-view.js';
import type { VHost } from '../../broker/vhost.js';
import type { SessionOwner } from '../../broker/front-door.js';
import type { User, UserRegistry } from '../../auth/users.js';
import type { FrameWriter } from '../codec/encode.js';

/**
 * The seam between the connection layer and a channel (src/amqp/CONTRACT.md): what a Channel sees of its
 * connection. Implemented by AmqpConnection.
 */
export interface ChannelHost {
  readonly broker: Broker;
  /** Its connection's identity as the management API shows it. */
  readonly connection: { readonly name: string; readonly peerHost: string; readonly peerPort: number };
  readonly vhost: VHost;
  readonly user: User;
  /** For authorize() before every operation. */
  readonly users: UserRegistry;
  /** The connection's identity for exclusive queues and consumers. */
  readonly owner: SessionOwner;
  /** Negotiated frame-max: content is split into body frames of at most this size. */
  readonly frameMax: number;
  readonly maxMessageBytes: number;
  readonly clientCapabilities: {
    consumerCancelNotify: boolean;
    publisherConfirms: boolean;
    basicNack: boolean;
    connectionBlocked: boolean;
  };
  /** Frames appended here are flushed to the socket once per tick. */
  readonly writer: FrameWriter;
  scheduleFlush(): void;
  /** False while the socket is over its high-water mark; the host calls channel.resume() on drain. */
  writable(): boolean;
  /**
   * An error raised outside handleFrame (frames held back during tx.commit and replayed once the commit
   * is durable). The host closes the channel or the connection as for a thrown error. Optional: without
   * it the channel is torn down silently.
   */
  reportAsyncError?(channelId: number, error: unknown): void;
  /**
   * After every publish: the queues it reached, for publisher flow control (the host may stop reading
   * its socket while one of them falls behind its consumers). Optional.
   */
  publishedTo?(queues: readonly QueueView[]): void;
}
