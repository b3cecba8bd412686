import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { QueueEntry } from '../broker/front-door.js';
import type { QueueView } from '../broker/queue-view.js';
import { sameInConstantTime } from './constant-time.js';
import { sqsError } from './errors.js';

/** Longest visibility timeout SQS allows: 12 hours (API reference, ChangeMessageVisibility). */
export const MAX_VISIBILITY_SECONDS = 43200;

/** A received message nobody has deleted yet: invisible until `deadline`, then back in its queue. */
export interface InFlightMessage {
  readonly id: number;
  readonly queue: QueueView;
  readonly entry: QueueEntry;
  readonly receivedAt: number;
  /** ApproximateFirstReceiveTimestamp: this receive's time, or the first receive's if the message came back. */
  readonly firstReceivedAt: number;
  /** Its receipt handle, kept so a live handle is recognised by comparison instead of a fresh HMAC. */
  handle: string;
  /** ChangeMessageVisibility was called on it (a ReceiveRequestAttemptId retry then receives anew). */
  changed: boolean;
  deadline: number;
  /** The timer it waits on: its receive's, shared, until a change of its visibility gives it its own. */
  visibility: VisibilityTimer | undefined;
}

/**
 * One timer for the messages of one receive: they share a deadline until one of them is changed, so a
 * receive of 10 arms one timer, not 10. It fires for the members still armed on it (`live` counts them;
 * the last one deleted clears it).
 */
interface VisibilityTimer {
  readonly members: readonly InFlightMessage[];
  live: number;
  timer: NodeJS.Timeout | undefined;
}

export type ReceiptLookup = { kind: 'live'; message: InFlightMessage } | { kind: 'stale' };

/**
 * Received messages and their receipt handles. The core holds each one as an unacked delivery; this
 * table gives it a visibility deadline (per message: SQS sets it per receive and per
 * ChangeMessageVisibility, finer than the core's one consumer timeout per queue). When it passes, the
 * entry goes back through `queue.reject(entry, true)`: redelivered, counted against the queue's
 * delivery limit (RedrivePolicy), and dispatched at once to any waiting ReceiveMessage.
 *
 * A receipt handle is `<id>.<scope>.<mac>`: the scope names the epoch, vhost, queue and the ids one
 * receive handed out (consecutive: `first`, `count`), the mac is an HMAC of the scope under the door's
 * secret (kept in the data dir, so handles outlive a restart). One HMAC per receive, not per message;
 * the id in front finds a live message without decoding anything. A forged or mangled handle (a bad
 * mac, an id outside its receive's range) is ReceiptHandleIsInvalid; a genuine one whose message is no
 * longer in flight (deleted, or visible again) is stale, which DeleteMessage accepts silently as SQS does.
 */
export class InFlightTable {
  private readonly messages = new Map<number, InFlightMessage>();
  private nextId = 1;
  /** Ids restart with the process: a handle from an earlier run must never name a message of this one. */
  private readonly epoch = randomBytes(6).toString('base64url');
  /**
   * First receive of the entries that went back to their queue while in flight (a later receive reports
   * it as ApproximateFirstReceiveTimestamp). Only those: a map entry per received message cost the GC.
   */
  private readonly firstReceived = new WeakMap<QueueEntry, number>();

  constructor(private readonly secret: Buffer) {}

  get size(): number {
    return this.messages.size;
  }

  countFor(queue: QueueView): number {
    let n = 0;
    for (const m of this.messages.values()) if (m.queue === queue) n++;
    return n;
  }

  /** Tracks the entries one receive took; returns what the table holds of them (each `handle` is its receipt handle). */
  addAll(queue: QueueView, entries: readonly QueueEntry[], visibilitySeconds: number): InFlightMessage[] {
    const first = this.nextId;
    this.nextId += entries.length;
    const scope = this.scopeFor(queue, first, entries.length);
    const now = Date.now();
    const held: InFlightMessage[] = [];
    for (let i = 0; i < entries.length; i++) {
      const id = first + i;
      const entry = entries[i]!;
      const firstReceivedAt = entry.deliveryCount === 1 ? now : (this.firstReceived.get(entry) ?? now);
      const message: InFlightMessage = { id, queue, entry, receivedAt: now, firstReceivedAt, handle: `${id}.${scope}`, changed: false, deadline: now, visibility: undefined };
      this.messages.set(id, message);
      held.push(message);
    }
    // Even for 0 s: a message must not come back inside the receive that is handing it out.
    this.arm(held, visibilitySeconds);
    return held;
  }

  lookup(handle: unknown, queue: QueueView): ReceiptLookup {
    const live = this.liveByHandle(handle, queue);
    if (live !== undefined) return { kind: 'live', message: live };
    const id = this.verify(handle, queue);
    const message = this.messages.get(id);
    return message === undefined || message.queue !== queue ? { kind: 'stale' } : { kind: 'live', message };
  }

  /** DeleteMessage: the core settles it (removed from the store). */
  delete(message: InFlightMessage): void {
    if (!this.forget(message)) return;
    message.queue.ack(message.entry);
  }

  /** ChangeMessageVisibility: the deadline moves to `seconds` from now; 0 makes it receivable at once. */
  setVisibility(message: InFlightMessage, seconds: number): void {
    message.changed = true;
    if (seconds === 0) return this.expire(message);
    this.arm([message], seconds);
  }

  /** Still in flight under the handle it was received with, neither deleted, returned nor changed. */
  untouched(message: InFlightMessage): boolean {
    return this.messages.get(message.id) === message && !message.changed;
  }

  /** A ReceiveRequestAttemptId retry: the visibility timeout starts again. */
  restartVisibility(message: InFlightMessage, seconds: number): void {
    this.arm([message], seconds);
  }

  /** The messages become visible again `seconds` from now, on one timer. */
  private arm(messages: readonly InFlightMessage[], seconds: number): void {
    const deadline = Date.now() + seconds * 1000;
    const visibility: VisibilityTimer = { members: messages, live: messages.length, timer: undefined };
    for (const message of messages) {
      this.disarm(message);
      message.deadline = deadline;
      message.visibility = visibility;
    }
    visibility.timer = setTimeout(() => {
      for (const message of visibility.members) if (message.visibility === visibility) this.expire(message);
    }, seconds * 1000);
    visibility.timer.unref();
  }

  private disarm(message: InFlightMessage): void {
    const visibility = message.visibility;
    if (visibility === undefined) return;
    message.visibility = undefined;
    if (--visibility.live === 0) clearTimeout(visibility.timer);
  }

  /** The queue was deleted or purged of what was in flight: forget its messages (the core dropped them). */
  forgetQueue(queue: QueueView): void {
    for (const message of [...this.messages.values()]) if (message.queue === queue) this.forget(message);
  }

  /** The door closes: every message in flight goes back to its queue. */
  returnAll(): void {
    for (const message of [...this.messages.values()]) this.expire(message);
  }

  private expire(message: InFlightMessage): void {
    if (!this.forget(message)) return;
    this.firstReceived.set(message.entry, message.firstReceivedAt);
    message.queue.reject(message.entry, true);
  }

  private forget(message: InFlightMessage): boolean {
    if (this.messages.get(message.id) !== message) return false;
    this.messages.delete(message.id);
    this.disarm(message);
    return true;
  }

  /** `<scope>.<mac>` of one receive's handles. */
  private scopeFor(queue: QueueView, first: number, count: number): string {
    const scope = Buffer.from(`${this.epoch}\n${queue.vhost.name}\n${queue.name}\n${first}\n${count}`).toString('base64url');
    return `${scope}.${this.mac(scope)}`;
  }

  /**
   * The common case without an HMAC: the handle is exactly the one issued for a message in flight in
   * this queue (the table holds the genuine string, so equality proves it). Anything else is verified.
   */
  private liveByHandle(handle: unknown, queue: QueueView): InFlightMessage | undefined {
    if (typeof handle !== 'string' || handle.length > 1024) return undefined;
    const dot = handle.indexOf('.');
    const id = dot > 0 && dot <= 15 ? Number(handle.slice(0, dot)) : NaN;
    const message = Number.isSafeInteger(id) ? this.messages.get(id) : undefined;
    if (message === undefined || message.queue !== queue) return undefined;
    return sameInConstantTime(message.handle, handle) ? message : undefined;
  }

  private verify(handle: unknown, queue: QueueView): number {
    const invalid = (): Error => sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle).slice(0, 200)}" is not a valid receipt handle.`);
    if (typeof handle !== 'string' || handle.length > 1024) throw invalid();
    const [idText, scope, mac, extra] = handle.split('.');
    if (idText === undefined || scope === undefined || mac === undefined || extra !== undefined) throw invalid();
    const given = Buffer.from(mac);
    const expected = Buffer.from(this.mac(scope));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    const [epoch, vhost, name, firstText, countText] = Buffer.from(scope, 'base64url').toString().split('\n');
    const id = /^\d{1,15}$/.test(idText) ? Number(idText) : NaN;
    const first = Number(firstText);
    if (vhost !== queue.vhost.name || name !== queue.name || !(id >= first && id < first + Number(countText))) throw invalid();
    return epoch === this.epoch ? id : 0; // 0: no message has it (stale)
  }

  private mac(scope: string): string {
    return createHmac('sha256', this.secret).update(scope).digest('base64url').slice(0, 22);
  }
}

export function readVisibility(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VISIBILITY_SECONDS) {
    throw sqsError('InvalidParameterValue', `Value ${value} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`);
  }
  return value;
}
