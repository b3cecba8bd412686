/**
 * In-memory bookkeeping for one segment file: where each message record sits and who still holds it.
 * Per message this costs 5 bytes (a 4-byte offset and a 1-byte state), so ten million stored messages
 * cost the store about 50 MB; bodies stay on disk.
 *
 * A handle is `segment * 2^32 + index`, where index numbers the message records of a segment in append
 * order. Compaction rewrites a segment in place (same number, same indexes, new offsets), so handles never
 * change and need no forwarding table.
 */

export const HANDLE_SPAN = 2 ** 32;

export function makeHandle(segment: number, index: number): number {
  return segment * HANDLE_SPAN + index;
}
export function handleSegment(handle: number): number {
  return Math.floor(handle / HANDLE_SPAN);
}
export function handleIndex(handle: number): number {
  return handle % HANDLE_SPAN;
}

/** state bits */
const LIVE = 1;
const DELIVERED = 2;
/** Holders are listed in `holders` (the record had or gained more than one queue). */
const MULTI = 4;

const INITIAL_CAPACITY = 1024;

export const Released = { NotHeld: 0, StillHeld: 1, Dead: 2 } as const;
export type Released = (typeof Released)[keyof typeof Released];

export class Segment {
  /** Byte offset of each message record in the file; 0 = not (or no longer) physically present. */
  offsets = new Uint32Array(INITIAL_CAPACITY);
  state = new Uint8Array(INITIAL_CAPACITY);
  /** Next unused index. */
  count = 0;
  /** Message records physically present / still held by some queue. */
  present = 0;
  live = 0;
  /**
   * During recovery only: the queue of each single-holder record, so that a Remove record written by
   * another queue before a compaction folded it in does not kill the record. Dropped after recovery.
   */
  singleHolder: Uint32Array | undefined;
  /** Holder queue ids of MULTI records. */
  holders: Map<number, number[]> | undefined;
  /**
   * Ids of the streams with message records (or Enqueue records) in this file, so that dropping a stream
   * visits only the files that may hold its messages (release-scan.ts).
   */
  readonly streams = new Set<number>();
  private lastStream = -1;
  /** Remove/Deliver records in this file, by the segment they point at: they pin this file (FORMAT.md). */
  readonly refTargets = new Map<number, number>();
  /** Head segment number when this file was last rewritten by compaction and made durable; 0 = never. */
  compactedAtHead = 0;
  /** Store layout version when last compacted: recompacting a fully dead file only helps after a change. */
  layoutAtCompaction = -1;
  sealed = false;
  compacting = false;
  /** A record failed its CRC at run time: never compacted, reported once. */
  damaged = false;
  /** Sealed but not yet covered by an fdatasync: must stay open and in place until it is. */
  syncPending = false;

  constructor(
    readonly number: number,
    readonly path: string,
    public fd: number,
    /** File length including bytes still in the write buffer. */
    public size: number,
  ) {}

  /** A record of stream `id` is in this file. Hot path: appends mostly repeat the last stream. */
  noteStream(id: number): void {
    if (id === this.lastStream) return;
    this.lastStream = id;
    this.streams.add(id);
  }

  /** Registers a message record at `offset` with index `index` (append: `this.count`). */
  addMessage(index: number, offset: number, delivered: boolean): void {
    if (index >= this.offsets.length) this.grow(index + 1);
    this.offsets[index] = offset;
    this.state[index] = LIVE | (delivered ? DELIVERED : 0);
    if (index >= this.count) this.count = index + 1;
    this.present++;
    this.live++;
  }

  /** A record found on recovery whose holders are all gone (dropped queues). */
  addDeadMessage(index: number, offset: number): void {
    if (index >= this.offsets.length) this.grow(index + 1);
    this.offsets[index] = offset;
    this.state[index] = 0;
    if (index >= this.count) this.count = index + 1;
    this.present++;
  }

  /** Recovery: remembers the one queue of a single-holder record. */
  setSingleHolder(index: number, queueId: number): void {
    if (!this.singleHolder || this.singleHolder.length < this.offsets.length) {
      const bigger = new Uint32Array(this.offsets.length);
      if (this.singleHolder) bigger.set(this.singleHolder);
      this.singleHolder = bigger;
    }
    this.singleHolder[index] = queueId;
  }

  setHolders(index: number, queues: number[]): void {
    (this.holders ??= new Map()).set(index, queues);
    this.state[index] = (this.state[index] ?? 0) | MULTI;
  }

  /** Another queue holds the record (fanout). `firstHolder` is the record's own queue when it is single. */
  addHolder(index: number, queueId: number, firstHolder: number): void {
    const s = this.state[index] ?? 0;
    if (s & MULTI) {
      const list = this.holders?.get(index);
      if (list) list.push(queueId);
      else this.setHolders(index, [queueId]);
      if (!(s & LIVE)) this.revive(index);
    } else if (s & LIVE) {
      this.setHolders(index, [firstHolder, queueId]);
    } else {
      this.setHolders(index, [queueId]);
      this.revive(index);
    }
  }

  private revive(index: number): void {
    this.state[index] = (this.state[index] ?? 0) | LIVE;
    this.live++;
  }

  isPresent(index: number): boolean {
    return index < this.count && this.offsets[index] !== 0;
  }

  isLive(index: number): boolean {
    return index < this.count && ((this.state[index] ?? 0) & LIVE) !== 0;
  }

  /** Whether `queueId` still holds the record (single records: any live one). */
  heldBy(index: number, queueId: number): boolean {
    const s = this.state[index] ?? 0;
    if (!(s & LIVE)) return false;
    if (!(s & MULTI)) return true;
    return this.holders?.get(index)?.includes(queueId) ?? false;
  }

  /** Queue ids holding a MULTI record; undefined for single records. */
  holdersOf(index: number): number[] | undefined {
    return (this.state[index] ?? 0) & MULTI ? this.holders?.get(index) : undefined;
  }

  wasDelivered(index: number): boolean {
    return ((this.state[index] ?? 0) & DELIVERED) !== 0;
  }

  markDelivered(index: number): void {
    if (index < this.count) this.state[index] = (this.state[index] ?? 0) | DELIVERED;
  }

  /** The queue lets go of the record: Released.NotHeld, StillHeld (other queues hold it) or Dead. */
  release(index: number, queueId: number): Released {
    if (index >= this.count) return Released.NotHeld;
    const s = this.state[index] ?? 0;
    if (!(s & LIVE)) return Released.NotHeld;
    if (!(s & MULTI) && this.singleHolder && this.singleHolder[index] !== queueId) return Released.NotHeld;
    if (s & MULTI) {
      const list = this.holders?.get(index);
      const at = list ? list.indexOf(queueId) : -1;
      if (!list || at < 0) return Released.NotHeld;
      list.splice(at, 1);
      if (list.length > 0) return Released.StillHeld;
      this.holders?.delete(index);
    }
    this.state[index] = s & ~(LIVE | MULTI);
    this.live--;
    return Released.Dead;
  }

  /** Compaction left the record out of the rewritten file. */
  forget(index: number): void {
    if (this.offsets[index] === 0) return;
    this.offsets[index] = 0;
    this.present--;
  }

  addReference(target: number): void {
    this.refTargets.set(target, (this.refTargets.get(target) ?? 0) + 1);
  }

  /** Sealed segments never grow again: give back the slack of the doubling arrays. */
  trim(): void {
    if (this.offsets.length === this.count) return;
    this.offsets = this.offsets.slice(0, this.count);
    this.state = this.state.slice(0, this.count);
  }

  private grow(needed: number): void {
    let capacity = this.offsets.length;
    while (capacity < needed) capacity *= 2;
    const offsets = new Uint32Array(capacity);
    offsets.set(this.offsets);
    const state = new Uint8Array(capacity);
    state.set(this.state);
    this.offsets = offsets;
    this.state = state;
  }
}
