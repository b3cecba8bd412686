/**
 * A binary min-heap of items ordered by (due time, sequence number): O(log n) push and pop, O(1) peek.
 * Keys live in Float64Array pages (due and sequence side by side) and items in plain array pages, so a
 * pending entry costs 24 bytes plus the item itself, with no object allocated per entry. The sequence
 * number breaks ties, so items due at the same millisecond come out in the order they went in.
 *
 * Why pages of fixed size rather than one array that doubles: growing or shrinking a contiguous array
 * copies every entry in one go, which at a million entries blocks the event loop for tens of
 * milliseconds (measured: 54 ms growing to 2^20 slots, 14 ms shrinking to 2^19), delaying every release
 * due meanwhile. A page is added or dropped in constant time.
 */
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const SLOT_MASK = PAGE_SIZE - 1;

/** Earlier due time first; the sequence number orders items due in the same millisecond. */
function precedes(dueA: number, seqA: number, dueB: number, seqB: number): boolean {
  return dueA < dueB || (dueA === dueB && seqA < seqB);
}

export class DueHeap<T> {
  /** Page p holds entries p * PAGE_SIZE onward: keys as [due, seq] pairs, items alongside. */
  private keys: Float64Array[] = [];
  private items: (T | undefined)[][] = [];
  private count = 0;
  /** Keys of the item the last `pop` returned (read them right after; no tuple is allocated). */
  poppedDue = 0;
  poppedSeq = 0;

  get size(): number {
    return this.count;
  }

  /** Slots allocated (a multiple of the page size); for tests of giving memory back. */
  get capacity(): number {
    return this.keys.length * PAGE_SIZE;
  }

  /** Due time of the earliest item; Infinity when empty. */
  peekDue(): number {
    return this.count === 0 ? Infinity : this.keys[0]![0]!;
  }

  push(due: number, seq: number, item: T): void {
    if (this.count === this.capacity) this.addPage();
    this.siftUp(this.count++, due, seq, item);
  }

  /** Removes and returns the earliest item (undefined when empty); its keys go to poppedDue/poppedSeq. */
  pop(): T | undefined {
    if (this.count === 0) return undefined;
    const first = this.keys[0]!;
    const top = this.items[0]![0];
    this.poppedDue = first[0]!;
    this.poppedSeq = first[1]!;
    const last = --this.count;
    const lastKeys = this.keys[last >>> PAGE_BITS]!;
    const lastItems = this.items[last >>> PAGE_BITS]!;
    const slot = last & SLOT_MASK;
    const lastItem = lastItems[slot] as T;
    lastItems[slot] = undefined;
    if (last !== 0) this.siftDown(0, lastKeys[2 * slot]!, lastKeys[2 * slot + 1]!, lastItem);
    this.dropSparePage();
    return top;
  }

  clear(): void {
    this.keys = [];
    this.items = [];
    this.count = 0;
  }

  /** Visits every item (heap order, not due order): for persistence and diagnostics. */
  forEach(visit: (item: T, due: number, seq: number) => void): void {
    for (let i = 0; i < this.count; i++) {
      const keys = this.keys[i >>> PAGE_BITS]!;
      const slot = i & SLOT_MASK;
      visit(this.items[i >>> PAGE_BITS]![slot] as T, keys[2 * slot]!, keys[2 * slot + 1]!);
    }
  }

  private siftUp(index: number, due: number, seq: number, item: T): void {
    while (index > 0) {
      const parent = (index - 1) >>> 1;
      const keys = this.keys[parent >>> PAGE_BITS]!;
      const slot = parent & SLOT_MASK;
      const pDue = keys[2 * slot]!;
      const pSeq = keys[2 * slot + 1]!;
      if (precedes(pDue, pSeq, due, seq)) break;
      this.put(index, pDue, pSeq, this.items[parent >>> PAGE_BITS]![slot] as T);
      index = parent;
    }
    this.put(index, due, seq, item);
  }

  private siftDown(index: number, due: number, seq: number, item: T): void {
    const n = this.count;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= n) break;
      let keys = this.keys[child >>> PAGE_BITS]!;
      let slot = child & SLOT_MASK;
      let cDue = keys[2 * slot]!;
      let cSeq = keys[2 * slot + 1]!;
      const right = child + 1;
      if (right < n) {
        // A left child ending a page has its sibling on the next page.
        const rKeys = this.keys[right >>> PAGE_BITS]!;
        const rSlot = right & SLOT_MASK;
        const rDue = rKeys[2 * rSlot]!;
        const rSeq = rKeys[2 * rSlot + 1]!;
        if (precedes(rDue, rSeq, cDue, cSeq)) {
          child = right;
          keys = rKeys;
          slot = rSlot;
          cDue = rDue;
          cSeq = rSeq;
        }
      }
      if (precedes(due, seq, cDue, cSeq)) break;
      this.put(index, cDue, cSeq, this.items[child >>> PAGE_BITS]![slot] as T);
      index = child;
    }
    this.put(index, due, seq, item);
  }

  private put(index: number, due: number, seq: number, item: T): void {
    const keys = this.keys[index >>> PAGE_BITS]!;
    const slot = index & SLOT_MASK;
    keys[2 * slot] = due;
    keys[2 * slot + 1] = seq;
    this.items[index >>> PAGE_BITS]![slot] = item;
  }

  private addPage(): void {
    this.keys.push(new Float64Array(2 * PAGE_SIZE));
    this.items.push(new Array<T | undefined>(PAGE_SIZE));
  }

  /**
   * Gives memory back as a burst drains: the last page goes once the page before it is empty too, so
   * one spare page absorbs pushes and pops around a page boundary without allocating each time.
   */
  private dropSparePage(): void {
    if (this.count <= this.capacity - 2 * PAGE_SIZE) {
      this.keys.pop();
      this.items.pop();
    }
  }
}
