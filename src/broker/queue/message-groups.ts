import type { Consumer } from '../consumer.js';
import { fieldString, type Message } from '../message.js';
import type { Entry } from './entry.js';
import { GroupLane, MessageGroup } from './message-group.js';
import { ReadyList } from './ready-list.js';
import { liveEntries, type ReadyEntries } from './ready-entries.js';
import type { ConsumerRoster } from './single-active-consumer.js';

/** x-message-group-max-in-flight default: SQS FIFO hands out at most 10 messages of a group per receive. */
export const DEFAULT_GROUP_MAX_IN_FLIGHT = 10;

/**
 * x-message-group-header (Warren extension; SQS FIFO MessageGroupId, ActiveMQ message groups): entries
 * with the same group value go to one consumer at a time, in order; different groups go out in parallel.
 *
 * A free group (nothing of it unacked) goes to whichever consumer dispatch picks, preferring the one
 * it last went to. That consumer then owns it: the group's next messages go only to it, up to
 * `maxInFlight` unacked at once, so the group's order holds and one slow group ties up at most that
 * many of its consumer's prefetch. When all of them are settled the group is free again. A message that
 * comes back (requeue, consumer timeout, channel closed) while others of its group are still out blocks
 * the group until they are settled, then the group starts again from it.
 *
 * Free groups wait in one rotation; owned groups in their consumer's lane (message-group.ts), so
 * dispatch finds a consumer's next message without walking past groups it may not have. Messages
 * without the header are not grouped: they share one FIFO that is always free.
 */
export class GroupedReady implements ReadyEntries {
  private readonly groups = new Map<string, MessageGroup>();
  private readonly ungrouped = new MessageGroup(undefined);
  private readonly free = new ReadyList<MessageGroup>();
  private readonly lanes = new Map<Consumer, GroupLane>();
  /** Lanes that may have groups queued (checked lazily); `laneCursor` is where the last search ended. */
  private readonly listedLanes: GroupLane[] = [];
  private laneCursor = 0;
  private live = 0;
  /** Bumped whenever the consumers change: every free group's preferred consumer is forgotten. */
  private consumerEpoch = 1;

  constructor(
    private readonly header: string,
    private readonly maxInFlight = DEFAULT_GROUP_MAX_IN_FLIGHT,
  ) {}

  get length(): number {
    return this.live;
  }

  /** Group count, for tests and metrics. */
  get groupCount(): number {
    return this.groups.size;
  }

  hasDeliverable(): boolean {
    return this.freeFront() !== undefined || this.nextLane(false) !== undefined;
  }

  /** Free groups are waiting: if no consumer can take one, the queue is stalled on its consumers. */
  hasFreeWork(): boolean {
    return this.freeFront() !== undefined;
  }

  /**
   * The consumer to deliver to next: an owner with room whose lane has work first, else the roster's
   * pick for the front free group (its last consumer preferred). Undefined when nobody can take now.
   */
  pickConsumer(roster: ConsumerRoster): Consumer | undefined {
    const lane = this.nextLane(true);
    if (lane !== undefined) return lane.consumer;
    const group = this.freeFront();
    if (group === undefined) return undefined;
    return roster.pickPreferring(group.lastEpoch === this.consumerEpoch ? group.lastConsumer : undefined);
  }

  /**
   * The next entry for `consumer` (which pickConsumer returned): the older of its lane's next and the
   * front free group's head, so a consumer sees arrival order across groups as far as ownership allows.
   */
  takeFor(consumer: Consumer): Entry | undefined {
    const lane = this.lanes.get(consumer);
    const owned = lane?.front(this.maxInFlight);
    if (owned !== undefined && !this.freeIsOlderThan(owned)) {
      lane!.shiftFront();
      return this.handOut(owned, lane);
    }
    const group = this.shiftFree();
    if (group === undefined) return undefined;
    if (group === this.ungrouped) return this.takeUngrouped();
    group.lastConsumer = consumer;
    group.lastEpoch = this.consumerEpoch;
    return this.handOut(group, this.laneOf(consumer));
  }

  /** basic.get: the head of a free group, which then waits (held by nobody) until it is settled. */
  take(): Entry | undefined {
    const group = this.shiftFree();
    if (group === undefined) return undefined;
    if (group === this.ungrouped) return this.takeUngrouped();
    return this.handOut(group, undefined);
  }

  /** A consumer joined: free groups are dealt out afresh, so it gets its share. */
  consumerAdded(): void {
    this.consumerEpoch++;
  }

  /** A consumer left: its groups wait until what it held is settled or requeued, then are free. */
  consumerGone(consumer: Consumer): void {
    this.consumerEpoch++;
    const lane = this.lanes.get(consumer);
    if (lane === undefined) return;
    lane.open = false;
    this.lanes.delete(consumer);
  }

  push(entry: Entry): void {
    const group = this.groupFor(entry.message);
    entry.group = group;
    group.entries.push(entry);
    group.live++;
    this.live++;
    this.enqueue(group);
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
    // The queue puts back before it releases, so the group is still registered and counts this entry.
    const group = entry.group as MessageGroup;
    group.entries.insertBySeq(entry);
    group.live++;
    this.live++;
    if (group.inFlight > 1) {
      group.blocked = true;
      group.laneSlot = undefined;
    }
    this.enqueue(group);
  }

  discard(entry: Entry): void {
    (entry.group as MessageGroup).live--;
    this.live--;
  }

  release(entry: Entry): void {
    const group = entry.group as MessageGroup | undefined;
    if (group === undefined || group === this.ungrouped || group.inFlight === 0) return;
    if (--group.inFlight === 0) {
      group.owner = undefined;
      group.blocked = false;
      group.laneSlot = undefined;
    }
    this.enqueue(group);
    this.forgetIfIdle(group);
  }

  clear(): Entry[] {
    const dropped = liveEntries(this.ungrouped.entries);
    this.ungrouped.entries.clear();
    this.ungrouped.live = 0;
    this.ungrouped.inFree = false;
    for (const [key, group] of this.groups) {
      dropped.push(...liveEntries(group.entries));
      group.entries.clear();
      group.live = 0;
      group.inFree = false;
      group.laneSlot = undefined;
      if (group.inFlight === 0) this.groups.delete(key);
    }
    this.free.clear();
    for (const lane of this.listedLanes) lane.listed = false;
    this.listedLanes.length = 0;
    for (const lane of this.lanes.values()) lane.rotation.clear();
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

  private laneOf(consumer: Consumer): GroupLane {
    let lane = this.lanes.get(consumer);
    if (lane === undefined) {
      lane = new GroupLane(consumer);
      this.lanes.set(consumer, lane);
    }
    return lane;
  }

  /** Hands out the group's head to `lane`'s consumer (or to basic.get when undefined). */
  private handOut(group: MessageGroup, lane: GroupLane | undefined): Entry {
    const entry = this.shiftFrom(group);
    group.inFlight++;
    group.owner = lane;
    this.enqueue(group);
    return entry;
  }

  private takeUngrouped(): Entry {
    const entry = this.shiftFrom(this.ungrouped);
    this.enqueue(this.ungrouped);
    return entry;
  }

  private shiftFrom(group: MessageGroup): Entry {
    const entry = group.head()!;
    group.entries.shift();
    group.live--;
    this.live--;
    return entry;
  }

  /** The front free group with a ready head; emptied groups are dropped from the rotation on the way. */
  private freeFront(): MessageGroup | undefined {
    for (let group = this.free.peek(); group !== undefined; group = this.free.peek()) {
      if (group.head() !== undefined) return group;
      this.free.shift();
      group.inFree = false;
      this.forgetIfIdle(group);
    }
    return undefined;
  }

  private freeIsOlderThan(owned: MessageGroup): boolean {
    const free = this.freeFront();
    return free !== undefined && free.head()!.seq < owned.head()!.seq;
  }

  private shiftFree(): MessageGroup | undefined {
    const group = this.freeFront();
    if (group === undefined) return undefined;
    this.free.shift();
    group.inFree = false;
    return group;
  }

  /** Puts a group where dispatch will find it: the free rotation, its owner's lane, or nowhere (waits). */
  private enqueue(group: MessageGroup): void {
    if (group.live === 0 || group.blocked) return;
    if (group.inFlight === 0) {
      if (group.inFree) return;
      group.inFree = true;
      this.free.push(group);
      return;
    }
    const lane = group.owner;
    if (lane === undefined || !lane.open || group.laneSlot !== undefined || group.inFlight >= this.maxInFlight) return;
    lane.enqueue(group);
    if (!lane.listed) {
      lane.listed = true;
      this.listedLanes.push(lane);
    }
  }

  /**
   * A lane with a group that can send now, searching round from where the last search ended and
   * unlisting lanes found empty; with `needsRoom`, only one whose consumer can take.
   */
  private nextLane(needsRoom: boolean): GroupLane | undefined {
    const lanes = this.listedLanes;
    for (let tried = lanes.length; tried > 0 && lanes.length !== 0; tried--) {
      if (this.laneCursor >= lanes.length) this.laneCursor = 0;
      const lane = lanes[this.laneCursor]!;
      if (!lane.open || lane.front(this.maxInFlight) === undefined) {
        lane.listed = false;
        lanes[this.laneCursor] = lanes[lanes.length - 1]!;
        lanes.pop();
        continue;
      }
      if (!needsRoom || lane.consumer.canTake()) return lane;
      this.laneCursor++;
    }
    return undefined;
  }

  /** A group with nothing ready and nothing out is forgotten, so group keys do not accumulate. */
  private forgetIfIdle(group: MessageGroup): void {
    if (group === this.ungrouped || group.inFlight !== 0 || group.live !== 0 || group.inFree) return;
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
