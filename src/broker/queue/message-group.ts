import type { Consumer } from '../front-door.js';
import { type Entry, EntryState } from './entry.js';
import { MinHeap } from './min-heap.js';
import { ReadyList } from './ready-list.js';

/**
 * One message group of a grouped queue: its ready entries in order, and who holds it. A group with
 * nothing out (`inFlight` 0) is free: any consumer may take its head. Once a consumer has some of it
 * unacked, the group is owned by that consumer's lane until every one of them is settled.
 */
export class MessageGroup {
  readonly entries = new ReadyList<Entry>();
  live = 0;
  /** Its entries handed out (to a consumer or basic.get) and not yet settled. */
  inFlight = 0;
  /** The lane holding it while inFlight > 0; undefined when free or held by basic.get. */
  owner: GroupLane | undefined = undefined;
  /**
   * One of its messages came back while others were still out: nothing more goes out until those are
   * settled too; then the group is free and starts again from the returned message.
   */
  blocked = false;
  /** Its place in the free groups' or its owner's queue; an older slot of it found there is skipped. */
  slot: GroupSlot | undefined = undefined;
  /** The consumer it last went to, preferred while `lastEpoch` is the queue's current consumer epoch. */
  lastConsumer: Consumer | undefined = undefined;
  lastEpoch = 0;
  /** Nothing ready, nothing out: kept by GroupedReady for reuse until a sweep forgets it. */
  idle = false;

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
 * A group's place in a GroupQueue, keyed by the seq of its head when it was queued. A fresh slot per
 * queuing makes dropping an old one O(1): the group just stops pointing at it.
 */
export interface GroupSlot {
  readonly seq: number;
  readonly group: MessageGroup;
}

const olderHeadFirst = (a: GroupSlot, b: GroupSlot): boolean => a.seq < b.seq;

/**
 * Groups waiting to send, the one with the oldest head (when it was queued) first, so no group falls
 * ever further behind the others in arrival order. A rotation would serve groups alike by count; as a
 * group's messages are scattered over the queue, groups would drift apart, and draining a backlog would
 * read it from all over memory (measured: 2-3x the cost per delivery).
 */
export class GroupQueue {
  private readonly heap = new MinHeap<GroupSlot>(olderHeadFirst);

  /** `dropped` hears of each group front() takes out without handing it back. */
  constructor(private readonly dropped?: (group: MessageGroup) => void) {}

  /** Queues `group` (which has a ready head), replacing any older slot of it. */
  push(group: MessageGroup): void {
    const slot: GroupSlot = { seq: group.head()!.seq, group };
    group.slot = slot;
    this.heap.push(slot);
  }

  /** The first group `canSend` accepts, dropping stale slots and refused groups on the way. */
  front(canSend: (group: MessageGroup) => boolean): MessageGroup | undefined {
    for (let slot = this.heap.peek(); slot !== undefined; slot = this.heap.peek()) {
      const group = slot.group;
      if (group.slot === slot && canSend(group)) return group;
      this.heap.pop();
      if (group.slot !== slot) continue;
      group.slot = undefined;
      this.dropped?.(group);
    }
    return undefined;
  }

  /** The seq its front group was queued with (call after front() returned a group). */
  frontSeq(): number {
    return this.heap.peek()!.seq;
  }

  /** The front group, as front() last found it able to send (no check again). */
  frontGroup(): MessageGroup {
    return this.heap.peek()!.group;
  }

  /**
   * The front group just sent its head: it stays in front while it `sendsMore`, so a consumer gets a
   * group's messages in runs (up to the in-flight cap, like an SQS FIFO receive), which is also how
   * they lie in memory; otherwise it leaves.
   */
  sentFront(sendsMore: boolean): void {
    if (!sendsMore) this.shift();
  }

  /** Takes the front group (after front() returned it) out and returns it. */
  shift(): MessageGroup {
    const group = this.heap.pop()!.group;
    group.slot = undefined;
    return group;
  }

  clear(): void {
    this.heap.clear();
  }
}

/** The groups one consumer owns that may send it more now (below the per-group in-flight cap). */
export class GroupLane {
  readonly queue = new GroupQueue();
  /** False once the consumer is gone: its groups wait until what it held is settled or requeued. */
  open = true;
  /** In GroupedReady's list of lanes that may have work. */
  listed = false;
  /** Groups it holds (with unacked messages of them). */
  owned = 0;
  private readonly canSend = (group: MessageGroup): boolean =>
    group.owner === this && !group.blocked && group.inFlight < this.maxInFlight && group.head() !== undefined;

  constructor(
    readonly consumer: Consumer,
    private readonly maxInFlight: number,
  ) {}

  front(): MessageGroup | undefined {
    return this.queue.front(this.canSend);
  }

  /** Hands out the head of its front group (after front() returned it), which stays owned by this lane. */
  sendFront(): Entry {
    const group = this.queue.frontGroup();
    const entry = group.head()!;
    group.entries.shift();
    group.live--;
    group.inFlight++;
    this.queue.sentFront(this.canSend(group));
    return entry;
  }
}
