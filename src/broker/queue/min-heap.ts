/** A binary min-heap ordered by `before(a, b)`: true when `a` must come out before `b`. */
export class MinHeap<T> {
  private items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** O(1) when keys arrive in increasing order (a queue-wide TTL): the sift stops at once. */
  push(item: T): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const above = items[parent]!;
      if (!this.before(item, above)) break;
      items[i] = above;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length !== 0 && last !== undefined) this.siftDown(last);
    return top;
  }

  /** Keeps only the items `keep` accepts (rebuilds in O(n)). */
  retain(keep: (item: T) => boolean): void {
    const kept = this.items.filter(keep);
    this.items = kept;
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.siftDownFrom(i, kept[i]!);
  }

  clear(): void {
    this.items = [];
  }

  private siftDown(item: T): void {
    this.siftDownFrom(0, item);
  }

  private siftDownFrom(start: number, item: T): void {
    const items = this.items;
    const n = items.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.before(items[child + 1]!, items[child]!)) child++;
      if (!this.before(items[child]!, item)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = item;
  }
}
