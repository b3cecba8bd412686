import { type Entry, EntryState } from './entry.js';
import { ReadyList } from './ready-list.js';
import { browseList, liveEntries, type ReadyEntries } from './ready-entries.js';

/**
 * x-max-priority: one FIFO per priority level, highest level first. A message's priority above the
 * maximum counts as the maximum (RabbitMQ); absent counts as 0. Requeued entries go back to their place
 * within their own level, so the per-priority order survives redelivery.
 */
export class PriorityReady implements ReadyEntries {
  private readonly levels: ReadyList<Entry>[];
  private live = 0;
  /** No level above this one holds anything (a hint; may be stale upwards, never downwards). */
  private top = 0;

  constructor(private readonly maxPriority: number) {
    this.levels = Array.from({ length: maxPriority + 1 }, () => new ReadyList<Entry>());
  }

  get length(): number {
    return this.live;
  }

  hasDeliverable(): boolean {
    return this.live !== 0;
  }

  push(entry: Entry): void {
    const level = this.levelOf(entry);
    this.levels[level]!.push(entry);
    this.live++;
    if (level > this.top) this.top = level;
  }

  take(): Entry | undefined {
    if (this.live === 0) return undefined;
    for (let level = this.top; level >= 0; level--) {
      const list = this.levels[level]!;
      let entry = list.shift();
      while (entry !== undefined && entry.state !== EntryState.Ready) entry = list.shift();
      if (entry !== undefined) {
        this.top = level;
        this.live--;
        return entry;
      }
    }
    return undefined;
  }

  /** Drop-head drops from the lowest priority first: those would be delivered last anyway. */
  takeOldest(): Entry | undefined {
    if (this.live === 0) return undefined;
    for (const list of this.levels) {
      let entry = list.shift();
      while (entry !== undefined && entry.state !== EntryState.Ready) entry = list.shift();
      if (entry !== undefined) {
        this.live--;
        return entry;
      }
    }
    return undefined;
  }

  putBack(entry: Entry): void {
    const level = this.levelOf(entry);
    this.levels[level]!.insertBySeq(entry);
    this.live++;
    if (level > this.top) this.top = level;
  }

  discard(_entry: Entry): void {
    this.live--;
  }

  release(_entry: Entry): void {
    // Priorities do not wait on settlements.
  }

  clear(): Entry[] {
    const dropped: Entry[] = [];
    for (const list of this.levels) {
      dropped.push(...liveEntries(list));
      list.clear();
    }
    this.live = 0;
    this.top = 0;
    return dropped;
  }

  browse(offset: number, count: number): Entry[] {
    const out: Entry[] = [];
    let skip = Math.max(0, offset);
    for (let level = this.levels.length - 1; level >= 0 && out.length < count; level--) {
      const list = this.levels[level]!;
      const before = out.length;
      browseList(list, skip, count, out);
      if (out.length === before) skip -= countLive(list, skip);
      else skip = 0;
    }
    return out;
  }

  private levelOf(entry: Entry): number {
    const priority = entry.message.properties.priority;
    if (priority === undefined || !(priority > 0)) return 0;
    return priority > this.maxPriority ? this.maxPriority : priority;
  }
}

/** Live entries in `list`, counting no further than `limit`. */
function countLive(list: ReadyList<Entry>, limit: number): number {
  let n = 0;
  for (const entry of list) {
    if (entry.state === EntryState.Ready && ++n >= limit) break;
  }
  return n;
}
