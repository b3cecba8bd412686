/**
 * A binary min-heap of items ordered by (due time, sequence number): O(log n) push and pop, O(1) peek.
 * Keys live in two Float64Arrays and items in one plain array, so a pending entry costs 24 bytes plus
 * the item itself, with no object allocated per entry. The sequence number breaks ties, so items due
 * at the same millisecond come out in the order they went in.
 */
const INITIAL_CAPACITY = 64;

/** Earlier due time first; the sequence number orders items due in the same millisecond. */
function precedes(dueA: number, seqA: number, dueB: number, seqB: number): boolean {
  return dueA < dueB || (dueA === dueB && seqA < seqB);
}

export class DueHeap<T> {
  private due = new Float64Array(INITIAL_CAPACITY);
  private seq = new Float64Array(INITIAL_CAPACITY);
  private items: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY);
  private count = 0;
  /** Keys of the item the last `pop` returned (read them right after; no tuple is allocated). */
  poppedDue = 0;
  poppedSeq = 0;

  get size(): number {
    return this.count;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.count === 0 ? Infinity : this.due[0]!;
  }

  push(due: number, seq: number, item: T): void {
    if (this.count === this.due.length) this.resize(this.due.length * 2);
    this.siftUp(this.count++, due, seq, item);
  }

  /** Removes and returns the earliest item (undefined when empty); its keys go to poppedDue/poppedSeq. */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const top = this.items[0];
    this.poppedDue = this.due[0]!;
    this.poppedSeq = this.seq[0]!;
    const last = --this.count;
    const lastItem = this.items[last] as T;
    const lastDue = this.due[last]!;
    const lastSeq = this.seq[last]!;
    this.items[last] = undefined;
    if (last !== 0) this.siftDown(0, lastDue, lastSeq, lastItem);
    // Give memory back after a burst drains (a million pending messages should not pin their slots).
    if (this.due.length > INITIAL_CAPACITY && this.count < this.due.length >>> 2) this.resize(this.due.length >>> 1);
    return top;
  }

  clear(): void {
    this.due = new Float64Array(INITIAL_CAPACITY);
    this.seq = new Float64Array(INITIAL_CAPACITY);
    this.items = new Array<T | undefined>(INITIAL_CAPACITY);
    this.count = 0;
  }

  /** Visits every item (heap order, not due order): for persistence and diagnostics. */
  forEach(visit: (item: T, due: number, seq: number) => void): void {
    for (let i = 0; i < this.count; i++) visit(this.items[i] as T, this.due[i]!, this.seq[i]!);
  }

  private siftUp(index: number, due: number, seq: number, item: T): void {
    const dues = this.due;
    const seqs = this.seq;
    const items = this.items;
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      const pDue = dues[parent]!;
      if (precedes(pDue, seqs[parent]!, due, seq)) break;
      dues[index] = pDue;
      seqs[index] = seqs[parent]!;
      items[index] = items[parent];
      index = parent;
    }
    dues[index] = due;
    seqs[index] = seq;
    items[index] = item;
  }

  private siftDown(index: number, due: number, seq: number, item: T): void {
    const dues = this.due;
    const seqs = this.seq;
    const items = this.items;
    const n = this.count;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && precedes(dues[right]!, seqs[right]!, dues[child]!, seqs[child]!)) child = right;
      const cDue = dues[child]!;
      if (precedes(due, seq, cDue, seqs[child]!)) break;
      dues[index] = cDue;
      seqs[index] = seqs[child]!;
      items[index] = items[child];
      index = child;
    }
    dues[index] = due;
    seqs[index] = seq;
    items[index] = item;
  }

  private resize(capacity: number): void {
    const due = new Float64Array(capacity);
    const seq = new Float64Array(capacity);
    due.set(this.due.subarray(0, this.count));
    seq.set(this.seq.subarray(0, this.count));
    this.due = due;
    this.seq = seq;
    this.items.length = capacity;
  }
}
