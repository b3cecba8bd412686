/** A growable list of handles (doubles) without per-element objects: recovery of millions stays cheap. */
export class HandleList {
  items = new Float64Array(256);
  length = 0;

  push(handle: number): void {
    if (this.length === this.items.length) {
      const bigger = new Float64Array(this.items.length * 2);
      bigger.set(this.items);
      this.items = bigger;
    }
    this.items[this.length++] = handle;
  }
}
