import type { Consumer } from '../consumer.js';
import { fieldString, type Message } from '../message.js';
import { type Entry, EntryState } from './entry.js';
import { ReadyList } from './ready-list.js';
import { liveEntries, type ReadyEntries } from './ready-entries.js';

/** One message group: its ready entries in order, and whether one of them is out with a consumer. */
class MessageGroup {
  /** ReadyList needs one; the rotation only appends, so it is never read. */
  readonly seq = 0;
  readonly entries = new ReadyList<Entry>();
  live = 0;
  /** An entry of this group is unacked: the next one waits (one at a time, in order). */
  busy = false;
  /** In the rotation of groups that can deliver. */
  queued = false;
  /** The consumer its last message went to, valid while `ownerEpoch` is the queue's current one. */
  owner: Consumer | undefined = undefined;
  ownerEpoch = 0;

  constructor(readonly key: string | undefined) {}

  head(): Entry | undefined {
    let entry = this.entries.peek();
    while (entry !== undefined && entry.state !== EntryState.Ready) {
      this.entries.shift();
      entry = this.entries.peek();
    }
    return entry;
  }
}

/**
 * x-message-group-header (Warren extension, SQS FIFO MessageGroupId semantics): entries with the same
 * group value are delivered in order, one at a time (the next waits while one is unacked); different
 * groups go out in parallel. Each group has its own FIFO, and a rotation holds the groups that can
 * deliver now, so a busy group costs nothing to skip. Messages without the header are not grouped: they
 * share one FIFO that never waits.
 *
 * A group's next message goes preferably to the consumer that had its previous one (while that consumer
 * has room): the messages an ack frees then go back to the acking consumer in one write instead of being
 * scattered over every consumer in small writes. Any change of consumers forgets these preferences, so
 * a consumer that joins gets its share of the existing groups.
 */
export class GroupedReady implements ReadyEntries {
  private readonly groups = new Map<string, MessageGroup>();
  private readonly ungrouped = new MessageGroup(undefined);
  private readonly rotation = new ReadyList<MessageGroup>();
  private live = 0;
  /** Bumped whenever the consumers change: every group's owner is forgotten at once. */
  private ownerEpoch = 1;

  constructor(private readonly header: string) {}

  get length(): number {
    return this.live;
  }

  /** Group count, for tests and metrics. */
  get groupCount(): number {
    return this.groups.size;
  }

  hasDeliverable(): boolean {
    while (this.rotation.length !== 0) {
      const group = this.rotation.peek()!;
      if (group.head() !== undefined) return true;
      this.rotation.shift();
      group.queued = false;
      this.forgetIfIdle(group);
    }
    return false;
  }

  /** The consumer the group that take() would serve next prefers; call after hasDeliverable(). */
  nextPreferredConsumer(): Consumer | undefined {
    const group = this.rotation.peek();
    return group !== undefined && group.ownerEpoch === this.ownerEpoch ? group.owner : undefined;
  }

  /** `entry` (just taken) went to `consumer`: its group prefers that consumer next time. */
  deliveredTo(entry: Entry, consumer: Consumer): void {
    const group = entry.group as MessageGroup;
    if (group === this.ungrouped) return;
    group.owner = consumer;
    group.ownerEpoch = this.ownerEpoch;
  }

  /** A consumer came or went: no group prefers anyone any more. */
  forgetConsumers(): void {
    this.ownerEpoch++;
  }

  push(entry: Entry): void {
    const group = this.groupFor(entry.message);
    entry.group = group;
    group.entries.push(entry);
    group.live++;
    this.live++;
    this.enqueue(group);
  }

  take(): Entry | undefined {
    if (!this.hasDeliverable()) return undefined;
    const group = this.rotation.shift()!;
    group.queued = false;
    const entry = this.shiftFrom(group);
    if (group === this.ungrouped) this.enqueue(group);
    else group.busy = true;
    return entry;
  }

  /** The oldest entry over all groups (a scan of group heads: overflow on grouped queues is rare). */
  takeOldest(): Entry | undefined {
    let oldest: MessageGroup | undefined;
    let oldestSeq = Infinity;
    for (const group of [this.ungrouped, ...this.groups.values()]) {
      const head = group.head();
      if (head !== undefined && head.seq < oldestSeq) {
        oldest = group;
        oldestSeq = head.seq;
      }
    }
    if (oldest === undefined) return undefined;
    const entry = this.shiftFrom(oldest);
    this.forgetIfIdle(oldest);
    return entry;
  }

  putBack(entry: Entry): void {
    // The queue puts back before it releases, so a busy group is still registered here.
    const group = entry.group as MessageGroup;
    group.entries.insertBySeq(entry);
    group.live++;
    this.live++;
    this.enqueue(group);
  }

  discard(entry: Entry): void {
    (entry.group as MessageGroup).live--;
    this.live--;
  }

  release(entry: Entry): void {
    const group = entry.group as MessageGroup | undefined;
    if (group === undefined || group === this.ungrouped || !group.busy) return;
    group.busy = false;
    if (group.live !== 0) this.enqueue(group);
    else this.forgetIfIdle(group);
  }

  clear(): Entry[] {
    const dropped = liveEntries(this.ungrouped.entries);
    this.ungrouped.entries.clear();
    this.ungrouped.live = 0;
    for (const group of this.groups.values()) {
      dropped.push(...liveEntries(group.entries));
      group.entries.clear();
      group.live = 0;
    }
    for (const [key, group] of this.groups) if (!group.busy) this.groups.delete(key);
    this.rotation.clear();
    this.ungrouped.queued = false;
    for (const group of this.groups.values()) group.queued = false;
    this.live = 0;
    return dropped;
  }

  /** Delivery order is per group; across groups this lists by arrival (seq). */
  browse(offset: number, count: number): Entry[] {
    const all = liveEntries(this.ungrouped.entries);
    for (const group of this.groups.values()) all.push(...liveEntries(group.entries));
    all.sort((a, b) => a.seq - b.seq);
    return all.slice(Math.max(0, offset), Math.max(0, offset) + count);
  }

  private groupFor(message: Message): MessageGroup {
    const key = fieldString(message.properties.headers?.[this.header]) ?? groupKeyOf(message, this.header);
    if (key === undefined) return this.ungrouped;
    let group = this.groups.get(key);
    if (group === undefined) {
      group = new MessageGroup(key);
      this.groups.set(key, group);
    }
    return group;
  }

  private shiftFrom(group: MessageGroup): Entry {
    const entry = group.head()!;
    group.entries.shift();
    group.live--;
    this.live--;
    return entry;
  }

  private enqueue(group: MessageGroup): void {
    if (group.queued || group.busy || group.live === 0) return;
    group.queued = true;
    this.rotation.push(group);
  }

  /** A group with nothing ready and nothing out is forgotten, so group keys do not accumulate. */
  private forgetIfIdle(group: MessageGroup): void {
    if (group === this.ungrouped || group.busy || group.live !== 0 || group.queued) return;
    if (this.groups.get(group.key!) === group) this.groups.delete(group.key!);
  }
}

/** Non-string header values (numbers, say) group by their printed form; absent or null: ungrouped. */
function groupKeyOf(message: Message, header: string): string | undefined {
  const value = message.properties.headers?.[header];
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' && !Buffer.isBuffer(value) ? JSON.stringify(value, bigintSafe) : String(value);
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
