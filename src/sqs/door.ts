import type { Logger } from 'pino';
import type { User, UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import { SessionAccess } from '../session/access.js';
import type { ConnectionView } from '../session/views.js';
import type { AccessKey, AccessKeyStore } from './access-keys.js';
import type { ClientGone } from './client-gone.js';
import { accountOf, parseQueueUrl, type AccountMap } from './addresses.js';
import { sqsError } from './errors.js';
import { ExpiringMap, FIFO_INTERVAL_MS, type ReceiveAttempt, type SentRecord } from './fifo-memory.js';
import { InFlightTable } from './in-flight.js';
import { MoveTask, MoveTaskStore, type MoveTaskRecord } from './move-tasks.js';
import type { SqsRequest, SqsResult } from './protocol/request.js';
import type { QueueRegistry } from './queue-registry.js';

/** One authenticated call, as the action handlers see it. */
export interface SqsCall {
  readonly request: SqsRequest;
  readonly key: AccessKey;
  readonly user: User;
  /** Scheme and Host header of the request: queue URLs name where the client reached us. */
  readonly scheme: string;
  readonly host: string;
  /** The client's row in /api/connections (clients.ts): the owner of what the call declares or consumes. */
  readonly owner: ConnectionView;
  /** Whether the client went away while the call waited (a long poll then gives back what it took). */
  readonly client: ClientGone;
}

/** The exchange delayed sends go through, one per vhost. */
export const DELAY_EXCHANGE = 'warren.sqs.delay';

export type ActionHandler = (door: SqsDoor, call: SqsCall) => SqsResult | Promise<SqsResult>;

/** The door's state shared by every action: the core, keys, the per-queue SQS settings, messages in flight. */
export class SqsDoor {
  readonly inFlight: InFlightTable;
  /** Messages waiting out DelaySeconds, per queue (ApproximateNumberOfMessagesDelayed). */
  readonly delayed = new Map<QueueView, Set<NodeJS.Timeout>>();
  private readonly boundToDelay = new WeakSet<QueueView>();
  /** Message move tasks by handle: live ones, and those of earlier runs (MoveTaskStore). */
  readonly moveTasks = new Map<string, MoveTask | MoveTaskRecord>();
  /** When each queue was last purged (PurgeQueue allows one per 60 s). */
  readonly purgedAt = new WeakMap<QueueView, number>();
  /** FIFO sends per queue by deduplication key, for 5 minutes: a duplicate gets the original's answer. */
  private readonly fifoSent = new WeakMap<QueueView, ExpiringMap<SentRecord>>();
  /** FIFO receives per queue by ReceiveRequestAttemptId, for 5 minutes: a retry gets the same messages. */
  private readonly receiveAttempts = new WeakMap<QueueView, ExpiringMap<ReceiveAttempt>>();
  /** A resource alarm holds publishers: sends are refused meanwhile (503, which the SDKs retry). */
  blockedReason: string | undefined = undefined;
  private receiveNumber = 0;
  private sequence = 0;

  constructor(
    readonly broker: Broker,
    readonly users: UserRegistry,
    readonly keys: AccessKeyStore,
    readonly registry: QueueRegistry,
    readonly accounts: AccountMap,
    readonly logger: Logger | undefined,
    private readonly taskStore: MoveTaskStore = new MoveTaskStore(undefined),
    earlierTasks: readonly MoveTaskRecord[] = [],
  ) {
    this.inFlight = new InFlightTable(keys.receiptHandleSecret);
    for (const task of earlierTasks) this.moveTasks.set(task.handle, task);
  }

  /** Starts a move task; it is saved now and at each change of its status. */
  startMoveTask(source: QueueView, sourceArn: string, destination: QueueView | undefined, destinationArn: string | undefined, rate: number | undefined): MoveTask {
    const save = (): void => this.taskStore.save(() => this.moveTasks.values());
    const task = new MoveTask(this.broker, source, sourceArn, destination, destinationArn, rate, save);
    this.moveTasks.set(task.handle, task);
    save();
    return task;
  }

  nextReceiveTag(): string {
    return `sqs-receive-${++this.receiveNumber}`;
  }

  /** FIFO SequenceNumber: 20 digits, increasing per broker process and in time across restarts. */
  nextSequenceNumber(): string {
    this.sequence = (this.sequence + 1) % 1_000_000;
    return `${Date.now()}${String(this.sequence).padStart(7, '0')}`.padStart(20, '0');
  }

  sentBefore(queue: QueueView): ExpiringMap<SentRecord> {
    return memoryOf(this.fifoSent, queue);
  }

  attemptsOf(queue: QueueView): ExpiringMap<ReceiveAttempt> {
    return memoryOf(this.receiveAttempts, queue);
  }

  access(call: SqsCall, vhost: string): SessionAccess {
    if (!this.users.canAccessVhost(call.user, vhost)) {
      throw sqsError('AccessDenied', `User '${call.user.name}' has no access to vhost '${vhost}'.`);
    }
    return new SessionAccess(this.users, call.user, vhost);
  }

  /** The vhost of calls that name no queue: the key's. */
  homeVhost(call: SqsCall): { vhost: VHost; account: string } {
    return this.vhostNamed(call.key.vhost);
  }

  vhostNamed(name: string): { vhost: VHost; account: string } {
    const vhost = this.broker.getVhost(name);
    const account = accountOf(this.accounts, name);
    if (vhost === undefined || account === undefined) throw sqsError('AccessDenied', `Vhost '${name}' is not mapped to an SQS account.`);
    return { vhost, account };
  }

  /** The queue a QueueUrl names, or QueueDoesNotExist. */
  queueAt(call: SqsCall, url: unknown): { queue: QueueView; account: string; access: SessionAccess } {
    const address = parseQueueUrl(this.accounts, url);
    const access = this.access(call, address.vhost);
    const queue = this.broker.getVhost(address.vhost)?.getQueue(address.name);
    if (queue === undefined || queue.deleted || queue.exclusiveOwner !== undefined) {
      throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    return { queue, account: address.account, access };
  }

  /** A definition change (queues, policies, the sqs-queue parameters) is answered once it is on disk. */
  async definitionsDurable(): Promise<void> {
    await new Promise<void>((resolve) => this.broker.whenDurable(() => resolve()));
  }

  delayedCount(queue: QueueView): number {
    return this.delayed.get(queue)?.size ?? 0;
  }

  /**
   * DelaySeconds: the vhost's `warren.sqs.delay` exchange (type x-delayed-message, durable, so pending
   * persistent messages are stored and survive a restart) with the queue bound by its own name. Returns
   * the exchange to publish through; the door counts the message as delayed until it is due.
   */
  delayExchange(queue: QueueView, seconds: number): string {
    const vhost = queue.vhost;
    if (vhost.getExchange(DELAY_EXCHANGE) === undefined) {
      vhost.declareExchange({ name: DELAY_EXCHANGE, type: 'x-delayed-message', durable: true, autoDelete: false, internal: false, arguments: { 'x-delayed-type': 'direct' } });
    }
    if (!this.boundToDelay.has(queue)) {
      vhost.bindQueue(queue.name, DELAY_EXCHANGE, queue.name, {}, { name: 'sqs' });
      this.boundToDelay.add(queue);
    }
    let timers = this.delayed.get(queue);
    if (timers === undefined) this.delayed.set(queue, (timers = new Set()));
    const set = timers;
    const timer = setTimeout(() => {
      set.delete(timer);
      if (set.size === 0) this.delayed.delete(queue);
    }, seconds * 1000);
    timer.unref();
    set.add(timer);
    return DELAY_EXCHANGE;
  }

  /** The door closes: in-flight messages return to their queues. */
  close(): void {
    for (const task of this.moveTasks.values()) if (task instanceof MoveTask) task.halt();
    for (const timers of this.delayed.values()) for (const timer of timers) clearTimeout(timer);
    this.delayed.clear();
    this.inFlight.returnAll();
  }
}

function memoryOf<V>(maps: WeakMap<QueueView, ExpiringMap<V>>, queue: QueueView): ExpiringMap<V> {
  let map = maps.get(queue);
  if (map === undefined) maps.set(queue, (map = new ExpiringMap<V>(FIFO_INTERVAL_MS)));
  return map;
}
