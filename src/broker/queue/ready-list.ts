/**
 * The ready messages of one queue, oldest first: a ring-buffer deque of entries ordered by `seq`.
 * Appends and takes from the front are O(1) without allocation; a requeued entry goes back to its
 * original place (by seq), which is almost always the front, so that case is O(1) as well.
 */
export interface Sequenced {
  readonly seq: number;
}

const INITIAL_CAPACITY = 16;

export class ReadyList<T extends Sequenced> {
  private slots: (T | undefined)[] = new Array<T | undefined>(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** Appends at the back; callers append in increasing seq order. */
  push(item: T): void {
    if (this.size === this.slots.length) this.grow();
    this.slots[(this.head + this.size) & this.mask] = item;
    this.size++;
  }

  unshift(item: T): void {
    if (this.size === this.slots.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.slots[this.head] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.slots[this.head];
    this.slots[this.head] = undefined; // let the message be collected
    this.head = (this.head + 1) & this.mask;
    this.size--;
    return item;
  }

  peek(): T | undefined {
    return this.size === 0 ? undefined : this.slots[this.head];
  }

  /** The item at logical position `index` (0 = front). */
  at(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    return this.slots[(this.head + index) & this.mask];
  }

  /** Puts an item back where its seq belongs, keeping the list ordered. */
  insertBySeq(item: T): void {
    const first = this.peek();
    if (first === undefined || item.seq < first.seq) return this.unshift(item);
    const last = this.at(this.size - 1)!;
    if (item.seq > last.seq) return this.push(item);
    this.insertAt(this.firstIndexAfter(item.seq), item);
  }

  /** Removes everything; returns how many items there were. */
  clear(): number {
    const removed = this.size;
    this.slots = new Array<T | undefined>(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.head = 0;
    this.size = 0;
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.slots[(this.head + i) & this.mask]!;
  }

  /** Binary search: the first logical index whose seq is greater than `seq`. */
  private firstIndexAfter(seq: number): number {
    let low = 0;
    let high = this.size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.slots[(this.head + mid) & this.mask]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Inserts at a logical index, shifting the shorter side. */
  private insertAt(index: number, item: T): void {
    if (this.size === this.slots.length) this.grow();
    const mask = this.mask;
    if (index < this.size - index) {
      this.head = (this.head - 1) & mask;
      for (let i = 0; i < index; i++) {
        this.slots[(this.head + i) & mask] = this.slots[(this.head + i + 1) & mask];
      }
    } else {
      for (let i = this.size; i > index; i--) {
        this.slots[(this.head + i) & mask] = this.slots[(this.head + i - 1) & mask];
      }
    }
    this.slots[(this.head + index) & mask] = item;
    this.size++;
  }

  private grow(): void {
    const capacity = this.slots.length * 2;
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.size; i++) next[i] = this.slots[(this.head + i) & this.mask];
    this.slots = next;
    this.mask = capacity - 1;
    this.head = 0;
  }
}
