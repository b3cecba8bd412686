import { EventEmitter } from 'node:events';
import { AmqpLink } from './amqp-link.js';
import { resolveConnection, type Connection } from './connection.js';
import { declareTopology } from './topology.js';
import { names } from './types.js';

export interface QueueEventsOptions {
  connection?: Connection;
}

/**
 * BullMQ's QueueEvents: 'waiting', 'delayed', 'active', 'progress', 'completed', 'failed', 'paused',
 * 'resumed', each with BullMQ's argument object ({ jobId, returnvalue }, { jobId, failedReason }, ...).
 * A server-named exclusive queue bound to the job queue's fanout events exchange: events published
 * while no QueueEvents listens are not replayed (BullMQ replays from a Redis stream; a deliberate gap).
 */
export class QueueEvents extends EventEmitter {
  private readonly link: AmqpLink;
  private readonly readyPromise: Promise<void>;

  /** 'error' is only emitted to listeners (an EventEmitter throws an unheard 'error'). */
  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  constructor(
    readonly name: string,
    opts: QueueEventsOptions = {},
  ) {
    super();
    this.link = new AmqpLink(resolveConnection(opts.connection), `warren/jobs events ${name}`);
    this.link.on('disconnected', (error) => this.emitError(error ?? new Error('connection lost')));
    this.readyPromise = this.link.addSetup(async (channel, connection) => {
      await declareTopology(channel, connection, name);
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(queue, names(name).events, '');
      await channel.consume(
        queue,
        (message) => {
          if (message === null) return;
          try {
            // A message carries one event or (batched per tick by the publisher) an array of them.
            const parsed = JSON.parse(message.content.toString()) as unknown;
            for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
              const { event, ...args } = item as { event: string } & Record<string, unknown>;
              if (typeof event === 'string') this.emit(event, args, message.properties.timestamp);
            }
          } catch {
            // not an event: ignore
          }
        },
        { noAck: true },
      );
    });
    this.readyPromise.catch(() => undefined);
  }

  waitUntilReady(): Promise<void> {
    return this.readyPromise;
  }

  async close(): Promise<void> {
    await this.readyPromise.catch(() => undefined);
    await this.link.close();
  }
}
