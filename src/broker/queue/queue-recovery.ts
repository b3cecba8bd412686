import type { Dispatcher } from './dispatcher.js';
import type { DurableMessages, DurableMessagesHost } from './durable-messages.js';
import type { Entry } from './entry.js';
import type { Intake } from './intake.js';
import type { MessageExpiry } from './message-expiry.js';
import { PagedFifoReady } from './paged-ready.js';
import type { QueueState } from './queue-state.js';
import { restoreReadBackState } from './read-back.js';
import type { Settlement } from './settlement.js';

/**
 * Stored messages coming back into a durable queue: recovered at start (restoreStored, finishRestore),
 * and read back while paging (the DurableMessagesHost events). Only durable queues on a persistent
 * store have one.
 */
export class QueueRecovery implements DurableMessagesHost {
  constructor(
    private readonly state: QueueState,
    private readonly persisted: DurableMessages,
    private readonly expiry: Pick<MessageExpiry, 'queueTtl' | 'track' | 'expireDue' | 'expireReadBack'>,
    private readonly intake: Pick<Intake, 'lengthLimit' | 'enforceDropHead'>,
    private readonly settlement: Pick<Settlement, 'deliveryLimit'>,
    private readonly dispatcher: Pick<Dispatcher, 'resume'>,
  ) {}

  /** See Queue.restoreStored. */
  async restoreStored(handles: Float64Array, delivered: Uint8Array): Promise<void> {
    const state = this.state;
    const ready = state.ready;
    if (ready instanceof PagedFifoReady && this.intake.lengthLimit?.limitsBytes !== true) {
      for (let i = 0; i < handles.length; i++) ready.pushStored(state.nextSeq++, handles[i]!, delivered[i] === 1);
      return;
    }
    const first = state.nextSeq;
    state.nextSeq += handles.length;
    for (const entry of await this.persisted.reviveAll(first, handles, delivered)) this.restoreEntry(entry);
  }

  /** See Queue.finishRestore. */
  finishRestore(): void {
    if (this.state.deleted) return;
    this.expiry.expireDue();
    if (this.state.ready instanceof PagedFifoReady) this.state.ready.prefetch();
    this.intake.enforceDropHead();
    this.dispatcher.resume();
  }

  restoredSize(bytes: number): void {
    this.state.readyBytes += bytes;
  }

  readBack(entry: Entry): void {
    restoreReadBackState(entry, this.expiry.queueTtl, this.settlement.deliveryLimit);
  }

  /**
   * Stored messages were read back (paged in, ahead of the consumers): a paging queue learns their TTLs
   * only now, so those already past it leave (dead-lettered if configured) and the others are watched;
   * messages further back are looked at as they come in, as RabbitMQ does from the head for
   * per-message TTL. A drop-head limit that waited for the head is applied, and dispatch resumes.
   */
  pagedIn(entries: readonly Entry[]): void {
    if (this.state.deleted) return;
    this.expiry.expireReadBack(entries);
    this.intake.enforceDropHead();
    // Everything read had expired: read on, so what expired while waiting leaves without a consumer.
    const ready = this.state.ready;
    if (ready instanceof PagedFifoReady && !ready.hasDeliverable()) ready.prefetch();
    this.dispatcher.resume();
  }

  unreadable(error: unknown, count: number): void {
    const queue = this.state.queue;
    queue.vhost.logger.error({ err: error, queue: queue.name, vhost: queue.vhost.name, count }, `${count} stored messages of ${queue.resource} could not be read and are dropped`);
  }

  /** A recovered entry read now (expiry and delivery count already set by restoreReadBackState). */
  private restoreEntry(entry: Entry): void {
    // Presence mode: ids of queued messages are duplicates again; a window counts from their publish time.
    this.state.dedup?.admit(entry.message, entry.message.publishedAt);
    this.state.pushReady(entry);
    if (entry.expiresAt !== 0) this.expiry.track(entry);
  }
}
