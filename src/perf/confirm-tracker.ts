/**
 * Publisher-confirm bookkeeping for one channel: which sequence numbers are still unconfirmed. Brokers
 * may confirm out of order and mix single and `multiple` acks (spec: confirm.select, RabbitMQ's
 * "Publisher Confirms" guide), so a count alone is wrong; this keeps one flag per outstanding tag in a
 * ring that grows only when more messages are outstanding than it has room for.
 */
export class ConfirmTracker {
  private ring: Uint8Array;
  private mask: number;
  /** The next tag publish() will assign (tags start at 1, spec: confirm.select). */
  private next = 1;
  /** Every tag below this is confirmed. */
  private lowest = 1;
  private pendingCount = 0;
  acked = 0;
  nacked = 0;

  constructor(initialCapacity = 1024) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.ring = new Uint8Array(size);
    this.mask = size - 1;
  }

  get outstanding(): number {
    return this.pendingCount;
  }

  /** Registers `count` newly published messages. */
  published(count: number): void {
    if (this.next + count - this.lowest > this.ring.length) this.grow(this.next + count - this.lowest);
    for (let i = 0; i < count; i++) this.ring[(this.next + i) & this.mask] = 1;
    this.next += count;
    this.pendingCount += count;
  }

  /** basic.ack / basic.nack from the broker. Returns how many messages it settled. */
  settle(tag: number, multiple: boolean, positive: boolean): number {
    let settled = 0;
    if (multiple) {
      const upTo = Math.min(tag, this.next - 1);
      for (let t = this.lowest; t <= upTo; t++) settled += this.clear(t);
      if (upTo + 1 > this.lowest) this.lowest = upTo + 1;
    } else if (tag >= this.lowest && tag < this.next) {
      settled = this.clear(tag);
    }
    this.advanceLowest();
    if (positive) this.acked += settled;
    else this.nacked += settled;
    this.pendingCount -= settled;
    return settled;
  }

  private clear(tag: number): number {
    const i = tag & this.mask;
    if (this.ring[i] === 0) return 0;
    this.ring[i] = 0;
    return 1;
  }

  private advanceLowest(): void {
    while (this.lowest < this.next && this.ring[this.lowest & this.mask] === 0) this.lowest++;
  }

  private grow(needed: number): void {
    const size = 2 ** Math.ceil(Math.log2(needed * 2));
    const ring = new Uint8Array(size);
    for (let t = this.lowest; t < this.next; t++) ring[t & (size - 1)] = this.ring[t & this.mask]!;
    this.ring = ring;
    this.mask = size - 1;
  }
}
