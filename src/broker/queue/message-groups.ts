import type { Consumer } from '../front-door.js';
import { fieldString, type Message } from '../message.js';
import type { Entry } from './entry.js';
import { GroupLane, GroupQueue, MessageGroup } from './message-group.js';
import { liveEntries, type ReadyEntries } from './ready-entries.js';
import type { ConsumerRoster } from './single-active-consumer.js';

/** x-message-group-max-in-flight default: SQS FIFO hands out at most 10 messages of a group per receive. */
const DEFAULT_GROUP_MAX_IN_FLIGHT = 10;

/**
 * Idle groups (nothing ready, nothing out) kept for reuse before a sweep forgets them: at most this
 * many, or as many as there are active groups if that is more. Live delivery through many groups
 * leaves most of them idle between two of their messages; forgetting each at once and making it again
 * for the next message (a group, its list, a map entry) was a large part of a grouped delivery's cost.
 */
const IDLE_GROUPS_KEPT = 4096;

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
 * Free groups wait in one queue; owned groups in their consumer's lane (message-group.ts), so
 * dispatch finds a consumer's next message without walking past groups it may not have. Both serve the
 * group with the oldest head first, and a group sends in runs up to the cap. Messages without the header are not grouped: they share one FIFO
 * that is always free.
 */
export class GroupedReady implements ReadyEntries {
  private readonly groups = new Map<string, MessageGroup>();
  private readonly ungrouped = new MessageGroup(undefined);
  /** Emptied groups leave the free queue lazily; then they are forgotten. */
  private readonly free = new GroupQueue((group) => this.forgetIfIdle(group));
  private readonly isFree = (group: MessageGroup): boolean => group.inFlight === 0 && group.head() !== undefined;
  private readonly lanes = new Map<Consumer, GroupLane>();
  /** Lanes that may have groups queued (checked lazily); `laneCursor` is where the last search ended. */
  private readonly listedLanes: GroupLane[] = [];
  private laneCursor = 0;
  private live = 0;
  /** Groups in `groups` that are idle (kept for reuse until a sweep). */
  private idleGroups = 0;
  /** The consumer the last takeNext() delivery is for. */
  taker: Consumer | undefined = undefined;
  /** Bumped whenever the consumers change: every free group's preferred consumer is forgotten. */
  private consumerEpoch = 1;

  constructor(
    private readonly header: string,
    private readonly maxInFlight = DEFAULT_GROUP_MAX_IN_FLIGHT,
  ) {}

  get length(): number {
    return this.live;
  }

  /** Active groups (something ready or out), for tests and metrics; idle ones kept for reuse are not counted. */
  get groupCount(): number {
    return this.groups.size - this.idleGroups;
  }

  /** Groups remembered, idle ones included (bounded: see IDLE_GROUPS_KEPT). */
  get keptGroupCount(): number {
    return this.groups.size;
  }

  hasDeliverable(): boolean {
    return this.freeFront() !== undefined || this.laneWithWork() !== undefined;
  }

  /** Free groups are waiting: if no consumer can take one, the queue is stalled on its consumers. */
  hasFreeWork(): boolean {
    return this.freeFront() !== undefined;
  }

  /**
   * The next delivery, or undefined when nobody who may take something can take now. An owner with
   * room whose lane has work goes first (from its lane or a free group, see keepsToLane); else the
   * front free group goes to the roster's pick, its last consumer preferred. The consumer it is for is
   * left in `taker`.
   */
  takeNext(roster: ConsumerRoster): Entry | undefined {
    const lane = this.laneWithRoom();
    if (lane !== undefined) {
      this.taker = lane.consumer;
      if (this.keepsToLane(lane, roster.size)) {
        this.live--;
        return lane.sendFront();
      }
      return this.takeFree(lane.consumer);
    }
    const free = this.freeFront();
    if (free === undefined) return undefined;
    const consumer = roster.pickPreferring(free.lastEpoch === this.consumerEpoch ? free.lastConsumer : undefined);
    if (consumer === undefined) return undefined;
    this.taker = consumer;
    return this.takeFree(consumer);
  }

  /** basic.get: the head of a free group, which then waits (held by nobody) until it is settled. */
  take(): Entry | undefined {
    return this.freeFront() === undefined ? undefined : this.takeFree(undefined);
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
    if (group.inFlight > 1) group.blocked = true;
    // Queued again keyed by its new (older) head, or dropped from its lane while blocked.
    group.slot = undefined;
    this.enqueue(group);
  }

  discard(entry: Entry): void {
    (entry.group as MessageGroup).live--;
    this.live--;
  }

  release(entry: Entry): void {
    const group = entry.group;
    if (group === undefined || group === this.ungrouped || group.inFlight === 0) return;
    if (--group.inFlight === 0) {
      if (group.owner !== undefined) group.owner.owned--;
      group.owner = undefined;
      group.blocked = false;
      group.slot = undefined;
    }
    this.enqueue(group);
    this.forgetIfIdle(group);
  }

  clear(): Entry[] {
    const dropped = liveEntries(this.ungrouped.entries);
    this.ungrouped.entries.clear();
    this.ungrouped.live = 0;
    this.ungrouped.slot = undefined;
    for (const [key, group] of this.groups) {
      dropped.push(...liveEntries(group.entries));
      group.entries.clear();
      group.live = 0;
      group.slot = undefined;
      if (group.inFlight === 0) this.groups.delete(key);
    }
    this.idleGroups = 0; // what is left has messages out, so is not idle
    this.free.clear();
    for (const lane of this.listedLanes) lane.listed = false;
    this.listedLanes.length = 0;
    for (const lane of this.lanes.values()) lane.queue.clear();
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
    } else if (group.idle) {
      group.idle = false;
      this.idleGroups--;
    }
    return group;
  }

  private laneOf(consumer: Consumer): GroupLane {
    let lane = this.lanes.get(consumer);
    if (lane === undefined) {
      lane = new GroupLane(consumer, this.maxInFlight);
      this.lanes.set(consumer, lane);
    }
    return lane;
  }

  /** Hands out the group's head to `lane`'s consumer (or to basic.get when undefined). */
  private handOut(group: MessageGroup, lane: GroupLane | undefined): Entry {
    const entry = this.shiftFrom(group);
    if (group.inFlight++ === 0 && lane !== undefined) lane.owned++;
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

  /**
   * Whether `lane`'s consumer (which has room and lane work) takes from its lane rather than a free
   * group: yes when nothing is free, or when it already holds its share of the groups, so freed groups
   * go to consumers holding fewer (ownership is sticky: unbalanced, some groups would fall ever further
   * behind the others, and draining a backlog would wander all over memory); otherwise the older head.
   */
  private keepsToLane(lane: GroupLane, consumers: number): boolean {
    if (this.freeFront() === undefined) return true;
    if (lane.owned * consumers >= this.groupCount) return true;
    return lane.queue.frontSeq() < this.free.frontSeq();
  }

  /** The front free group with a ready head. */
  private freeFront(): MessageGroup | undefined {
    return this.free.front(this.isFree);
  }

  /** The front free group's head (call after freeFront() found one) for `consumer`, which then owns the group. */
  private takeFree(consumer: Consumer | undefined): Entry {
    const group = this.free.shift();
    if (group === this.ungrouped) return this.takeUngrouped();
    if (consumer === undefined) return this.handOut(group, undefined);
    group.lastConsumer = consumer;
    group.lastEpoch = this.consumerEpoch;
    return this.handOut(group, this.laneOf(consumer));
  }

  /** Puts a group where dispatch will find it: with the free groups, in its owner's lane, or nowhere (waits). */
  private enqueue(group: MessageGroup): void {
    if (group.slot !== undefined || group.blocked || group.head() === undefined) return;
    if (group.inFlight === 0) return this.free.push(group);
    const lane = group.owner;
    if (lane === undefined || !lane.open || group.inFlight >= this.maxInFlight) return;
    lane.queue.push(group);
    if (!lane.listed) {
      lane.listed = true;
      this.listedLanes.push(lane);
    }
  }

  /** A lane with a group that can send now and a consumer that can take it. */
  private laneWithRoom(): GroupLane | undefined {
    return this.searchLanes(true);
  }

  /** A lane with a group that can send now. */
  private laneWithWork(): GroupLane | undefined {
    return this.searchLanes(false);
  }

  /** Searches round from where the last search ended, unlisting lanes found without work. */
  private searchLanes(needsRoom: boolean): GroupLane | undefined {
    const lanes = this.listedLanes;
    for (let tried = lanes.length; tried > 0 && lanes.length !== 0; tried--) {
      if (this.laneCursor >= lanes.length) this.laneCursor = 0;
      const lane = lanes[this.laneCursor]!;
      if (!lane.open || lane.front() === undefined) {
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

  /**
   * A group with nothing ready and nothing out is idle: kept for its next message, and forgotten by a
   * sweep once idle groups outnumber both IDLE_GROUPS_KEPT and the active groups, so group keys do not
   * accumulate (a sweep visits every group, paid for by the idle ones it found: amortised O(1)).
   */
  private forgetIfIdle(group: MessageGroup): void {
    if (group.idle || group === this.ungrouped || group.inFlight !== 0 || group.live !== 0 || group.slot !== undefined) return;
    if (this.groups.get(group.key!) !== group) return;
    group.idle = true;
    this.idleGroups++;
    if (this.idleGroups > IDLE_GROUPS_KEPT && 2 * this.idleGroups > this.groups.size) this.sweepIdle();
  }

  private sweepIdle(): void {
    for (const [key, group] of this.groups) if (group.idle) this.groups.delete(key);
    this.idleGroups = 0;
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
