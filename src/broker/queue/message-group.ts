import type { Consumer } from '../consumer.js';
import { type Entry, EntryState } from './entry.js';
import { ReadyList } from './ready-list.js';

/**
 * One message group of a grouped queue: its ready entries in order, and who holds it. A group with
 * nothing out (`inFlight` 0) is free: any consumer may take its head. Once a consumer has some of it
 * unacked, the group is owned by that consumer's lane until every one of them is settled.
 */
export class MessageGroup {
  /** ReadyList needs one; rotations only append, so it is never read. */
  readonly seq = 0;
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
  /** In the free rotation. */
  inFree = false;
  /** Its current slot in its owner's lane; an older slot of it found in a lane is stale and skipped. */
  laneSlot: LaneSlot | undefined = undefined;
  /** The consumer it last went to, preferred while `lastEpoch` is the queue's current consumer epoch. */
  lastConsumer: Consumer | undefined = undefined;
  lastEpoch = 0;

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

/** A group's place in a lane's rotation. A fresh slot per enqueue makes forgetting an old one O(1). */
export interface LaneSlot {
  readonly seq: 0;
  readonly group: MessageGroup;
}

/** The groups one consumer owns that may send it more now (below the per-group in-flight cap). */
export class GroupLane {
  readonly rotation = new ReadyList<LaneSlot>();
  /** False once the consumer is gone: its groups wait until what it held is settled or requeued. */
  open = true;
  /** In GroupedReady's list of lanes with queued slots. */
  listed = false;

  constructor(readonly consumer: Consumer) {}

  /** Queues `group` at the back of the rotation, replacing any older slot of it. */
  enqueue(group: MessageGroup): void {
    const slot: LaneSlot = { seq: 0, group };
    group.laneSlot = slot;
    this.rotation.push(slot);
  }

  /** The group at the front that can send now, dropping stale slots on the way; undefined if none. */
  front(maxInFlight: number): MessageGroup | undefined {
    for (let slot = this.rotation.peek(); slot !== undefined; slot = this.rotation.peek()) {
      const group = slot.group;
      if (group.laneSlot === slot && group.owner === this && this.canSend(group, maxInFlight)) return group;
      this.rotation.shift();
      if (group.laneSlot === slot) group.laneSlot = undefined;
    }
    return undefined;
  }

  /** Takes the front group (after front() returned it) out of the rotation. */
  shiftFront(): void {
    const slot = this.rotation.shift()!;
    slot.group.laneSlot = undefined;
  }

  private canSend(group: MessageGroup, maxInFlight: number): boolean {
    return !group.blocked && group.inFlight < maxInFlight && group.head() !== undefined;
  }
}
