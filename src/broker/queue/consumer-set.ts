import type { Consumer } from '../front-door.js';

/**
 * The consumers of one queue, ordered by priority (highest first, then by arrival), with one
 * round-robin cursor per priority level. A lower level is served only while every consumer above it
 * is unable to take more (RabbitMQ's consumer priorities). A consumer that `fillsBatch` keeps the
 * cursor until it is full, so entries arriving one by one fill one batch instead of spreading over
 * every waiting consumer.
 */
export class ConsumerSet {
  private list: Consumer[] = [];
  /** Exclusive end index in `list` of each priority level. */
  private levelEnds: number[] = [];
  /** Index in `list` of the next consumer to try, per level. */
  private cursors: number[] = [];

  get size(): number {
    return this.list.length;
  }

  get consumers(): readonly Consumer[] {
    return this.list;
  }

  add(consumer: Consumer): void {
    let index = this.list.length;
    while (index > 0 && this.list[index - 1]!.priority < consumer.priority) index--;
    this.list.splice(index, 0, consumer);
    this.rebuildLevels();
  }

  remove(consumer: Consumer): boolean {
    const index = this.list.indexOf(consumer);
    if (index < 0) return false;
    this.list.splice(index, 1);
    this.rebuildLevels();
    return true;
  }

  has(consumer: Consumer): boolean {
    return this.list.includes(consumer);
  }

  /** Empties the set and returns what it held. */
  drain(): Consumer[] {
    const drained = this.list;
    this.list = [];
    this.levelEnds = [];
    this.cursors = [];
    return drained;
  }

  /** The next consumer, round-robin within the highest level that has one able to take; or none. */
  pick(): Consumer | undefined {
    const list = this.list;
    let start = 0;
    for (let level = 0; level < this.levelEnds.length; level++) {
      const end = this.levelEnds[level]!;
      let index = this.cursors[level]!;
      for (let tried = end - start; tried > 0; tried--) {
        if (index >= end) index = start;
        const consumer = list[index++]!;
        if (consumer.canTake()) {
          this.cursors[level] = consumer.fillsBatch === true ? index - 1 : index;
          return consumer;
        }
      }
      start = end;
    }
    return undefined;
  }

  /**
   * `preferred` when it can take and every consumer shares one priority level (a preference must never
   * pass over a higher-priority consumer); otherwise the round-robin pick.
   */
  pickPreferring(preferred: Consumer | undefined): Consumer | undefined {
    if (preferred !== undefined && this.levelEnds.length === 1 && preferred.canTake()) return preferred;
    return this.pick();
  }

  private rebuildLevels(): void {
    const ends: number[] = [];
    const list = this.list;
    for (let i = 1; i <= list.length; i++) {
      if (i === list.length || list[i]!.priority !== list[i - 1]!.priority) ends.push(i);
    }
    const cursors: number[] = [];
    let start = 0;
    for (let level = 0; level < ends.length; level++) {
      const end = ends[level]!;
      const previous = this.cursors[level] ?? start;
      cursors.push(previous >= start && previous < end ? previous : start);
      start = end;
    }
    this.levelEnds = ends;
    this.cursors = cursors;
  }
}
