import { EventEmitter } from 'node:events';
import amqp from 'amqplib';
import type { ResolvedConnection } from './connection.js';

type AmqpConnection = Awaited<ReturnType<typeof amqp.connect>>;
export type ConfirmChannel = Awaited<ReturnType<AmqpConnection['createConfirmChannel']>>;

/** Runs on every (re)connected channel: declares, consumers. */
export type ChannelSetup = (channel: ConfirmChannel, connection: AmqpConnection) => Promise<void>;
export type { AmqpConnection };

const MAX_RECONNECT_DELAY_MS = 5_000;

/**
 * One AMQP connection with one confirm channel that comes back by itself. A closed connection (broker
 * restart, connection closed by an operator, network) is reopened with backoff and every setup step
 * runs again, so a Worker keeps consuming after a reconnect instead of silently stopping (BullMQ's
 * known failure). Publishes wait for the broker's confirm; one caught by a disconnect is sent again on
 * the next channel (at least once; the job id makes the second copy harmless).
 *
 * Events: 'connected', 'disconnected' (error), 'error' is never emitted for a lost connection.
 */
export class AmqpLink extends EventEmitter {
  private connection: AmqpConnection | undefined;
  private channel: ConfirmChannel | undefined;
  private readonly setups: ChannelSetup[] = [];
  private opening: Promise<ConfirmChannel> | undefined;
  private closed = false;
  private delayMs: number;
  private readonly closedChannels = new WeakSet<ConfirmChannel>();
  /** Hints waiting for the end of the tick, per exchange (see publishHint). */
  private hints = new Map<string, object[]>();
  private hintsScheduled = false;

  constructor(
    private readonly target: ResolvedConnection,
    private readonly name: string,
  ) {
    super();
    this.delayMs = target.reconnectDelayMs;
  }

  /** Adds a setup step, run now (if connected) and after every reconnect. */
  async addSetup(setup: ChannelSetup): Promise<void> {
    this.setups.push(setup);
    const channel = this.channel;
    if (channel !== undefined && this.connection !== undefined) await setup(channel, this.connection);
    else await this.ready();
  }

  /** The current channel, opening one (with retries) if needed. */
  ready(): Promise<ConfirmChannel> {
    if (this.closed) return Promise.reject(new Error('connection is closed'));
    if (this.channel !== undefined) return Promise.resolve(this.channel);
    this.opening ??= this.open().finally(() => (this.opening = undefined));
    return this.opening;
  }

  get current(): ConfirmChannel | undefined {
    return this.channel;
  }

  /** Publishes and resolves once confirmed; retried on a new channel if the connection drops first. */
  async publish(exchange: string, routingKey: string, body: Buffer, options: amqp.Options.Publish): Promise<void> {
    for (;;) {
      const channel = await this.ready();
      try {
        await new Promise<void>((resolve, reject) => {
          channel.publish(exchange, routingKey, body, { persistent: true, ...options }, (error) => (error ? reject(error) : resolve()));
        });
        return;
      } catch (error) {
        if (this.closed) throw error;
        if (this.channel === channel) throw error; // a nack, not a lost connection
      }
    }
  }

  /**
   * Publishes `hint` unconfirmed, with the others of this tick to the same exchange, as one message
   * whose body is a JSON array: job events are hints (state is in the records), and one message per
   * tick instead of one per event saves a frame, a route and a delivery to every listener per job.
   * Lost if no channel is open: the reconnect does not resend hints.
   */
  publishHint(exchange: string, hint: object): void {
    let list = this.hints.get(exchange);
    if (list === undefined) this.hints.set(exchange, (list = []));
    list.push(hint);
    if (this.hintsScheduled) return;
    this.hintsScheduled = true;
    setImmediate(() => this.flushHints());
  }

  private flushHints(): void {
    this.hintsScheduled = false;
    const hints = this.hints;
    this.hints = new Map();
    const channel = this.channel;
    if (channel === undefined) return;
    for (const [exchange, list] of hints) {
      try {
        channel.publish(exchange, '', Buffer.from(JSON.stringify(list)), { contentType: 'application/json' });
      } catch {
        // the channel is closing
      }
    }
  }

  /** Whether the broker closed this channel (its unacked deliveries went back to the queue). */
  isClosed(channel: ConfirmChannel): boolean {
    return this.closedChannels.has(channel);
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    this.channel = undefined;
    await connection?.close().catch(() => undefined);
  }

  private async open(): Promise<ConfirmChannel> {
    for (;;) {
      if (this.closed) throw new Error('connection is closed');
      try {
        // noDelay: amqplib leaves Nagle on, which holds a worker's small acks back for the peer's delayed ACK
        // (about 40 ms on Linux) and with them the prefetch credit: throughput fell to prefetch / 40 ms.
        const connection = await amqp.connect(this.target.amqpUrl, { noDelay: true, clientProperties: { connection_name: this.name } });
        connection.on('error', () => undefined);
        const channel = await connection.createConfirmChannel();
        channel.on('error', () => undefined);
        for (const setup of this.setups) await setup(channel, connection);
        connection.once('close', (error?: Error) => this.lost(connection, error));
        // A channel error (a broker refusal) leaves the connection open: start over on a new one.
        channel.once('close', () => {
          this.closedChannels.add(channel);
          void connection.close().catch(() => undefined);
        });
        this.connection = connection;
        this.channel = channel;
        this.delayMs = this.target.reconnectDelayMs;
        this.emit('connected');
        if (this.closed) await connection.close().catch(() => undefined);
        return channel;
      } catch (error) {
        if (this.closed) throw error;
        this.emit('disconnected', error);
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
        this.delayMs = Math.min(this.delayMs * 2, MAX_RECONNECT_DELAY_MS);
      }
    }
  }

  private lost(connection: AmqpConnection, error: Error | undefined): void {
    if (this.connection !== connection) return;
    this.connection = undefined;
    this.channel = undefined;
    if (this.closed) return;
    this.emit('disconnected', error);
    // Reconnect in the background; setups (consumers) come back with the channel.
    void this.ready().catch(() => undefined);
  }
}
