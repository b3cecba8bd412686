import { type Entry, EntryState } from './entry.js';

const MAX_DELAY = 0x7fffffff;
/** Drop stale items once they outnumber the live unacked deliveries by this much. */
const COMPACT_SLACK = 1024;

/**
 * Consumer timeout (x-consumer-timeout, or the broker's limits.consumerTimeoutMs): every delivery to an
 * acking consumer must be settled within `timeoutMs`, or the queue takes it back (see Settlement.takeBack).
 *
 * With one timeout per queue, deadlines arrive in increasing order: a FIFO of (entry, deadline) with
 * one timer for the oldest. Settled deliveries are not searched for; they are skipped when they reach
 * the front (their state or deadline no longer matches), and compacted away when they pile up.
 * An extension records a new deadline at the back; the old item is then stale.
 */
export class ConsumerTimeouts {
  private entries: Entry[] = [];
  private deadlines: number[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    /** Called from the timer for each delivery past its deadline. */
    private readonly late: (entry: Entry) => void,
  ) {}

  /** A delivery to an acking consumer was just made. */
  track(entry: Entry, now: number, unackedCount: number): void {
    const deadline = now + this.timeoutMs;
    entry.deadline = deadline;
    this.entries.push(entry);
    this.deadlines.push(deadline);
    if (this.entries.length - this.head > 2 * unackedCount + COMPACT_SLACK) this.compact();
    if (this.timer === undefined) this.arm(deadline, now);
  }

  /** The consumer asked for more time: the deadline moves to `timeoutMs` from now. */
  extend(entry: Entry, now: number, unackedCount: number): boolean {
    if (entry.state !== EntryState.Unacked) return false;
    this.track(entry, now, unackedCount);
    return true;
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = Date.now();
    const overdue: Entry[] = [];
    while (this.head < this.entries.length) {
      const entry = this.entries[this.head]!;
      const deadline = this.deadlines[this.head]!;
      if (entry.state === EntryState.Unacked && entry.deadline === deadline) {
        if (deadline > now) break;
        overdue.push(entry);
      }
      this.entries[this.head] = undefined as unknown as Entry; // let it be collected
      this.head++;
    }
    if (this.head === this.entries.length || this.head > 4096) this.compact();
    // Taking back may dispatch again and so call track(): done once the FIFO is consistent.
    for (const entry of overdue) this.late(entry);
    if (this.timer === undefined && this.head < this.entries.length) {
      this.arm(this.deadlines[this.head]!, Date.now());
    }
  };

  private arm(deadline: number, now: number): void {
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY, Math.max(0, deadline - now)));
    this.timer.unref();
  }

  private compact(): void {
    const entries: Entry[] = [];
    const deadlines: number[] = [];
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!;
      const deadline = this.deadlines[i]!;
      if (entry.state === EntryState.Unacked && entry.deadline === deadline) {
        entries.push(entry);
        deadlines.push(deadline);
      }
    }
    this.entries = entries;
    this.deadlines = deadlines;
    this.head = 0;
  }
}
