/**
 * Writers first: a stream consumer far behind the tail (replaying old data) shares the broker's one event
 * loop with everyone who publishes. Left alone it hands out its whole credit each time an ack arrives, and
 * a fast replay takes most of the loop (measured: writers at 0.23x of their rate alone). The issue asks that
 * a consumer reading old data not slow the writers, as Kafka's and RabbitMQ's readers do not.
 *
 * So while anything was published in the last WRITERS_WINDOW_MS, catching-up readers deliver only in paced
 * turns (setImmediate: after the loop has polled its sockets, so the writers' reads go first), at most
 * `slice` records each turn. A window rather than "since the last turn": a writer at a fixed rate sends
 * in bursts, and a reader let loose between two bursts would hand out its whole credit at once and hold
 * the next burst back by milliseconds. With no writers readers deliver as before, their whole credit at
 * once. Readers at the tail are never paced: they deliver what the writers write.
 */
const WRITERS_WINDOW_MS = 100;

export class ReadPacer {
  private writes = 0;
  private writesAtLastTurn = 0;
  /** When a turn last found new writes (performance.now()). */
  private lastWritesSeenAt = Number.NEGATIVE_INFINITY;
  private readonly waiting = new Set<(budget: number) => void>();
  private scheduled = false;

  constructor(
    /** Records a catching-up reader hands out per paced turn while writers are active. */
    readonly slice = 64,
  ) {}

  /** Something was published (any door, any queue): readers behind the tail give way for a while. */
  noteWrites(count = 1): void {
    this.writes += count;
  }

  /** Were there writes in the last WRITERS_WINDOW_MS (or since the last paced turn)? */
  get writersActive(): boolean {
    return this.writes !== this.writesAtLastTurn || performance.now() - this.lastWritesSeenAt < WRITERS_WINDOW_MS;
  }

  /** Runs `resume` in the next paced turn with the number of records it may hand out then. */
  defer(resume: (budget: number) => void): void {
    this.waiting.add(resume);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.turn());
  }

  private turn(): void {
    this.scheduled = false;
    if (this.writes !== this.writesAtLastTurn) this.lastWritesSeenAt = performance.now();
    this.writesAtLastTurn = this.writes;
    const budget = this.writersActive ? this.slice : Number.POSITIVE_INFINITY;
    const resumes = [...this.waiting];
    this.waiting.clear();
    for (const resume of resumes) resume(budget);
  }
}
