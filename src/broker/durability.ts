/**
 * The seam between the broker core and persistence. The disk store (src/store) implements this; until
 * it is wired in, the broker runs with `MemoryDurability`, where "durable" means "accepted".
 */
export interface DurabilityStore {
  open(): Promise<void>;
  close(): Promise<void>;
  /** Calls back once everything accepted so far is on disk (group commit). */
  whenDurable(callback: () => void): void;
}

/**
 * Nothing is written anywhere, so everything is as durable as it will get: callbacks run on the next
 * tick, batched so a burst of publisher confirms costs one scheduled tick, not one per message.
 */
export class MemoryDurability implements DurabilityStore {
  private pending: (() => void)[] = [];
  private scheduled = false;
  private readonly flush = (): void => {
    const callbacks = this.pending;
    this.pending = [];
    this.scheduled = false;
    for (const callback of callbacks) callback();
  };

  open(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }

  whenDurable(callback: () => void): void {
    this.pending.push(callback);
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.flush);
    }
  }
}
