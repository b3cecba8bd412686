/**
 * A FIFO of stored messages that have no Entry object: per message its queue position (seq), its store
 * handle and a flags byte, in growable typed arrays (17 bytes a message instead of a ~130-byte Entry).
 * Pushed in increasing seq order, taken from the front.
 */
const INITIAL_CAPACITY = 1024;

export const ColdFlag = {
  Redelivered: 1,
  /** Recovered from the store: its body size is not in the queue's readyBytes yet. */
  Uncounted: 2,
} as const;

export class ColdRing {
  private seqs = new Float64Array(INITIAL_CAPACITY);
  private handles = new Float64Array(INITIAL_CAPACITY);
  private flags = new Uint8Array(INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  private head = 0;
  private count = 0;
  /** Filled by `shift`: the removed record. */
  seq = 0;
  handle = 0;
  flag = 0;

  get size(): number {
    return this.count;
  }

  push(seq: number, handle: number, flag: number): void {
    if (this.count === this.seqs.length) this.grow();
    const at = (this.head + this.count) & this.mask;
    this.seqs[at] = seq;
    this.handles[at] = handle;
    this.flags[at] = flag;
    this.count++;
  }

  /** Removes the front record into `seq`/`handle`/`flag`; false when empty. No allocation. */
  shift(): boolean {
    if (this.count === 0) return false;
    const at = this.head;
    this.seq = this.seqs[at]!;
    this.handle = this.handles[at]!;
    this.flag = this.flags[at]!;
    this.head = (at + 1) & this.mask;
    this.count--;
    if (this.count === 0) this.shrink();
    return true;
  }

  /** Record `index` from the front, into `seq`/`handle`/`flag`, without removing it. */
  peekAt(index: number): void {
    const at = (this.head + index) & this.mask;
    this.seq = this.seqs[at]!;
    this.handle = this.handles[at]!;
    this.flag = this.flags[at]!;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.shrink();
  }

  private grow(): void {
    const capacity = this.seqs.length * 2;
    this.seqs = this.copyInto(this.seqs, new Float64Array(capacity));
    this.handles = this.copyInto(this.handles, new Float64Array(capacity));
    this.flags = this.copyInto(this.flags, new Uint8Array(capacity));
    this.mask = capacity - 1;
    this.head = 0;
  }

  private copyInto<T extends Float64Array | Uint8Array>(from: T, to: T): T {
    for (let i = 0; i < this.count; i++) to[i] = from[(this.head + i) & this.mask]!;
    return to;
  }

  /** An emptied ring gives its (possibly huge) arrays back. */
  private shrink(): void {
    if (this.seqs.length === INITIAL_CAPACITY) return;
    this.seqs = new Float64Array(INITIAL_CAPACITY);
    this.handles = new Float64Array(INITIAL_CAPACITY);
    this.flags = new Uint8Array(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.head = 0;
  }
}
