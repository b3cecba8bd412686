import type { QueueEntry } from '../front-door.js';
import type { Message } from '../message.js';
import { QueueCounters } from './counters.js';
import type { DeduplicationCache } from './deduplication.js';
import type { DurableMessages } from './durable-messages.js';
import { Entry, EntryState } from './entry.js';
import { GroupedReady } from './message-groups.js';
import type { ReadyEntries } from './ready-entries.js';
import type { ConsumerRoster } from './single-active-consumer.js';
import type { Queue } from './queue.js';

/**
 * What the parts of one queue (dispatch, intake, expiry, settlement, subscriptions, recovery) all work
 * on: the ready entries, the consumers, the store seam, and the counts kept current as entries move.
 * Each part keeps its own settings and timers; only what several of them read and write is here.
 *
 * Parts reach the parts they need through their constructors (built in order, see Queue); the owning
 * `queue` is here for what entries and deliveries carry (Entry.queue, Consumer.deliver) and for its
 * public face (name, vhost, resumeDispatch) where a part is built before the one it would ask.
 */
export class QueueState {
  nextSeq = 1;
  /** Entries handed out to acking consumers (or basic.get) and not yet settled. */
  unacked = 0;
  /** Body bytes of the ready entries (x-max-length-bytes, metrics). */
  readyBytes = 0;
  deleted = false;
  readonly counters = new QueueCounters();
  /** `ready` when the queue has message groups (dispatch asks it which consumer may take what). */
  readonly grouped: GroupedReady | undefined;

  constructor(
    readonly queue: Queue,
    readonly ready: ReadyEntries,
    readonly roster: ConsumerRoster,
    /** Durable queue with a disk store: persistent messages are written (durable-messages.ts). */
    readonly persisted: DurableMessages | undefined,
    /** x-message-deduplication; fixed at declare time. */
    readonly dedup: DeduplicationCache | undefined,
  ) {
    this.grouped = ready instanceof GroupedReady ? ready : undefined;
  }

  /** A new entry for `message`, next in queue order. */
  newEntry(message: Message): Entry {
    return new Entry(this.queue, this.nextSeq++, message);
  }

  /** An entry joins the ready list (new or recovered; requeued ones go back with putBack). */
  pushReady(entry: Entry): void {
    this.ready.push(entry);
    this.readyBytes += entry.message.bodySize;
  }

  /** Deduplication by presence: the message left the queue, so its id may come again. */
  forgetDuplicate(message: Message): void {
    if (this.dedup?.tracksPresence) this.dedup.forget(message);
  }

  /** The entry as this queue's own, if it is one of ours and still waiting for a settlement. */
  unackedEntry(entry: QueueEntry): Entry | undefined {
    if (this.deleted || !(entry instanceof Entry)) return undefined;
    if (entry.queue !== this.queue || entry.state !== EntryState.Unacked) return undefined;
    return entry;
  }
}
