import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { QueueEntry } from '../broker/front-door.js';
import { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import { BarrierSet } from '../session/durability.js';
import type { Broker } from '../broker/broker.js';

/** Default pace when MaxNumberOfMessagesPerSecond is not given (AWS: "system optimized"). */
const DEFAULT_RATE = 500;
const TICK_MS = 100;

export type MoveTaskStatus = 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';

/** What ListMessageMoveTasks shows of a task, live or from before a restart. */
export interface MoveTaskRecord {
  readonly handle: string;
  readonly startedAt: number;
  /** `<vhost>\u0000<queue>` of the source: tasks are listed per source queue. */
  readonly sourceKey: string;
  readonly sourceArn: string;
  readonly destinationArn: string | undefined;
  readonly rate: number | undefined;
  readonly status: MoveTaskStatus;
  readonly moved: number;
  readonly toMove: number;
  readonly failureReason: string | undefined;
}

export function sourceKeyOf(queue: QueueView): string {
  return `${queue.vhost.name}\u0000${queue.name}`;
}

/** A broker restart ends a running task (AWS documents no restarts; a failed task may simply be started again). */
export const RESTART_FAILURE = 'The broker restarted while the task was running; start a new task to move the remaining messages.';
/** Finished tasks kept per source queue (ListMessageMoveTasks shows at most 10). */
const KEPT_PER_SOURCE = 10;

/**
 * Move tasks in `<dataDir>/sqs/move-tasks.json`, written when a task starts and when it ends (its
 * progress in between is not: after a crash ApproximateNumberOfMessagesMoved may be behind), so a
 * restarted broker still lists them; one that was RUNNING comes back FAILED (RESTART_FAILURE).
 */
export class MoveTaskStore {
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly file: string | undefined) {}

  async load(): Promise<MoveTaskRecord[]> {
    if (this.file === undefined) return [];
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const parsed = JSON.parse(text) as { tasks: MoveTaskRecord[] };
    return parsed.tasks.map((t) => (t.status === 'RUNNING' || t.status === 'CANCELLING' ? { ...t, status: 'FAILED', failureReason: RESTART_FAILURE } : t));
  }

  /** Saves the newest tasks of each source (one write at a time; changes meanwhile go in the next). */
  save(tasks: () => Iterable<MoveTaskRecord>): void {
    const file = this.file;
    if (file === undefined || this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      const kept = new Map<string, number>();
      const list = [...tasks()].map(snapshot).sort((a, b) => b.startedAt - a.startedAt).filter((t) => {
        const n = (kept.get(t.sourceKey) ?? 0) + 1;
        kept.set(t.sourceKey, n);
        return n <= KEPT_PER_SOURCE;
      });
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, JSON.stringify({ version: 1, tasks: list }));
      await rename(`${file}.tmp`, file);
    });
  }

  flushed(): Promise<void> {
    return this.writing;
  }
}

function snapshot(t: MoveTaskRecord): MoveTaskRecord {
  return { handle: t.handle, startedAt: t.startedAt, sourceKey: t.sourceKey, sourceArn: t.sourceArn, destinationArn: t.destinationArn, rate: t.rate, status: t.status, moved: t.moved, toMove: t.toMove, failureReason: t.failureReason };
}

/**
 * A message move task (StartMessageMoveTask): moves a dead-letter queue's messages back to the queues
 * they were dead-lettered from (the core's x-first-death-queue header) or to one destination, at most
 * `rate` per second. Each round takes ready messages from the source, publishes copies, waits until they
 * are durable, then settles the originals, so a crash in between duplicates rather than loses.
 */
export class MoveTask implements MoveTaskRecord {
  readonly handle = randomUUID();
  readonly startedAt = Date.now();
  readonly sourceKey: string;
  private statusNow: MoveTaskStatus = 'RUNNING';
  moved = 0;
  failureReason: string | undefined;
  readonly toMove: number;
  private timer: NodeJS.Timeout | undefined;
  private halted = false;

  constructor(
    private readonly broker: Broker,
    readonly source: QueueView,
    readonly sourceArn: string,
    /** undefined: each message back to the queue it came from. */
    readonly destination: QueueView | undefined,
    readonly destinationArn: string | undefined,
    readonly rate: number | undefined,
    /** Told of every status change (the door saves its tasks). */
    private readonly changed: () => void = () => undefined,
  ) {
    this.sourceKey = sourceKeyOf(source);
    this.toMove = source.readyCount();
    this.schedule(0);
  }

  get status(): MoveTaskStatus {
    return this.statusNow;
  }

  private set status(status: MoveTaskStatus) {
    this.statusNow = status;
    this.changed();
  }

  cancel(): void {
    if (this.status !== 'RUNNING') return;
    this.status = 'CANCELLED';
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** The door closes: no more rounds, the status stays (a saved RUNNING task comes back FAILED). */
  halt(): void {
    this.halted = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => this.round(), ms);
    this.timer.unref();
  }

  private round(): void {
    if (this.status !== 'RUNNING' || this.halted) return;
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
      // The door closed meanwhile (the store may be closed too): the originals stay, and come back with
      // the copies after a restart (duplicated, never lost).
      if (this.halted) return;
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
    this.failureReason = reason;
    this.status = 'FAILED';
  }
}
