import { randomUUID } from 'node:crypto';
import type { QueueEntry } from '../broker/front-door.js';
import { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import { BarrierSet } from '../session/durability.js';
import type { Broker } from '../broker/broker.js';

/** Default pace when MaxNumberOfMessagesPerSecond is not given (AWS: "system optimized"). */
const DEFAULT_RATE = 500;
const TICK_MS = 100;

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/**
 * A message move task (StartMessageMoveTask): moves a dead-letter queue's messages back to the queues
 * they were dead-lettered from (the core's x-first-death-queue header) or to one destination, at most
 * `rate` per second. Each round takes ready messages from the source, publishes copies, waits until they
 * are durable, then settles the originals, so a crash in between duplicates rather than loses.
 */
export class MoveTask {
  readonly handle = randomUUID();
  readonly startedAt = Date.now();
  status: MoveTaskStatus = 'RUNNING';
  moved = 0;
  failureReason: string | undefined;
  readonly toMove: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    readonly source: QueueView,
    readonly sourceArn: string,
    /** undefined: each message back to the queue it came from. */
    readonly destination: QueueView | undefined,
    readonly destinationArn: string | undefined,
    readonly rate: number | undefined,
  ) {
    this.toMove = source.readyCount();
    this.schedule(0);
  }

  cancel(): void {
    if (this.status !== 'RUNNING') return;
    this.status = 'CANCELLED';
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.round(), ms);
    this.timer.unref();
  }

  private round(): void {
    if (this.status !== 'RUNNING') return;
    if (this.source.deleted) return this.fail('The source queue was deleted.');
    const budget = Math.max(1, Math.floor(((this.rate ?? DEFAULT_RATE) * TICK_MS) / 1000));
    const taken: QueueEntry[] = [];
    const barriers = new BarrierSet(this.broker);
    for (let i = 0; i < budget && this.moved + taken.length < this.toMove; i++) {
      const entry = this.source.get(false);
      if (entry === undefined) break;
      const target = this.destination ?? this.origin(entry);
      if (target === undefined || target.deleted) {
        this.source.requeue([entry, ...taken]);
        return this.fail('A message has no source queue to go back to (or it was deleted).');
      }
      const m = entry.message;
      target.vhost.publish(new Message('', target.name, m.properties, m.body, m.encodedProperties));
      if (target.durability !== undefined) barriers.join(target.durability);
      taken.push(entry);
    }
    if (taken.length === 0) {
      this.status = 'COMPLETED';
      return;
    }
    barriers.waitAll((lost) => {
      if (lost) {
        this.source.requeue(taken);
        return this.fail('Moved messages could not be stored.');
      }
      for (const entry of taken) this.source.ack(entry);
      this.moved += taken.length;
      if (this.moved >= this.toMove) this.status = 'COMPLETED';
      else this.schedule(TICK_MS);
    });
  }

  private origin(entry: QueueEntry): QueueView | undefined {
    const name = entry.message.properties.headers?.['x-first-death-queue'];
    return typeof name === 'string' ? this.source.vhost.getQueue(name) : undefined;
  }

  private fail(reason: string): void {
    this.status = 'FAILED';
    this.failureReason = reason;
  }
}
