import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { QueueEntry } from '../broker/front-door.js';
import type { QueueView } from '../broker/queue-view.js';
import { sqsError } from './errors.js';

/** Longest visibility timeout SQS allows: 12 hours (API reference, ChangeMessageVisibility). */
export const MAX_VISIBILITY_SECONDS = 43200;

/** A received message nobody has deleted yet: invisible until `deadline`, then back in its queue. */
export interface InFlightMessage {
  readonly id: number;
  readonly queue: QueueView;
  readonly entry: QueueEntry;
  readonly receivedAt: number;
  /** Its receipt handle, kept so a live handle is recognised by comparison instead of a fresh HMAC. */
  handle: string;
  /** ChangeMessageVisibility was called on it (a ReceiveRequestAttemptId retry then receives anew). */
  changed: boolean;
  deadline: number;
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
 * A receipt handle is `<vhost> <queue> <id>` plus an HMAC under the door's secret (kept in the data
 * dir, so handles outlive a restart): a forged or mangled handle is ReceiptHandleIsInvalid; a genuine
 * one whose message is no longer in flight (deleted, or visible again) is stale, which DeleteMessage
 * accepts silently as SQS does.
 */
export class InFlightTable {
  private readonly messages = new Map<number, InFlightMessage>();
  private nextId = 1;
  /** Ids restart with the process: a handle from an earlier run must never name a message of this one. */
  private readonly epoch = randomBytes(6).toString('base64url');

  constructor(private readonly secret: Buffer) {}

  get size(): number {
    return this.messages.size;
  }

  countFor(queue: QueueView): number {
    let n = 0;
    for (const m of this.messages.values()) if (m.queue === queue) n++;
    return n;
  }

  /** Tracks a received entry; returns what the table holds of it (its `handle` is the receipt handle). */
  add(queue: QueueView, entry: QueueEntry, visibilitySeconds: number): InFlightMessage {
    const id = this.nextId++;
    const now = Date.now();
    const message: InFlightMessage = { id, queue, entry, receivedAt: now, handle: this.handleFor(queue, id), changed: false, deadline: now, timer: undefined };
    this.messages.set(id, message);
    // Even for 0 s: a message must not come back inside the receive that is handing it out.
    this.arm(message, visibilitySeconds);
    return message;
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
    this.arm(message, seconds);
  }

  /** Still in flight under the handle it was received with, neither deleted, returned nor changed. */
  untouched(message: InFlightMessage): boolean {
    return this.messages.get(message.id) === message && !message.changed;
  }

  /** A ReceiveRequestAttemptId retry: the visibility timeout starts again. */
  restartVisibility(message: InFlightMessage, seconds: number): void {
    this.arm(message, seconds);
  }

  private arm(message: InFlightMessage, seconds: number): void {
    if (message.timer !== undefined) clearTimeout(message.timer);
    message.deadline = Date.now() + seconds * 1000;
    message.timer = setTimeout(() => this.expire(message), seconds * 1000);
    message.timer.unref();
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
    message.queue.reject(message.entry, true);
  }

  private forget(message: InFlightMessage): boolean {
    if (this.messages.get(message.id) !== message) return false;
    this.messages.delete(message.id);
    if (message.timer !== undefined) clearTimeout(message.timer);
    message.timer = undefined;
    return true;
  }

  private handleFor(queue: QueueView, id: number): string {
    const body = `${this.epoch}\n${queue.vhost.name}\n${queue.name}\n${id}`;
    return `${Buffer.from(body).toString('base64url')}.${this.mac(body)}`;
  }

  /**
   * The common case without an HMAC: the handle is exactly the one issued for a message in flight in
   * this queue (the table holds the genuine string, so equality proves it). Anything else is verified.
   */
  private liveByHandle(handle: unknown, queue: QueueView): InFlightMessage | undefined {
    if (typeof handle !== 'string' || handle.length > 1024) return undefined;
    const dot = handle.indexOf('.');
    if (dot < 0) return undefined;
    const body = Buffer.from(handle.slice(0, dot), 'base64url').toString();
    const id = Number(body.slice(body.lastIndexOf('\n') + 1));
    const message = Number.isInteger(id) ? this.messages.get(id) : undefined;
    if (message === undefined || message.queue !== queue || message.handle.length !== handle.length) return undefined;
    // Constant-time, so response times tell nothing of how much of a guessed handle was right.
    return timingSafeEqual(Buffer.from(message.handle), Buffer.from(handle)) ? message : undefined;
  }

  private verify(handle: unknown, queue: QueueView): number {
    const invalid = (): Error => sqsError('ReceiptHandleIsInvalid', `The input receipt handle "${String(handle).slice(0, 200)}" is not a valid receipt handle.`);
    if (typeof handle !== 'string' || handle.length > 1024) throw invalid();
    const dot = handle.indexOf('.');
    if (dot < 0) throw invalid();
    const body = Buffer.from(handle.slice(0, dot), 'base64url').toString();
    const mac = Buffer.from(handle.slice(dot + 1));
    const expected = Buffer.from(this.mac(body));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw invalid();
    const [epoch, vhost, name, id] = body.split('\n');
    if (vhost !== queue.vhost.name || name !== queue.name || id === undefined) throw invalid();
    return epoch === this.epoch ? Number(id) : 0; // 0: no message has it (stale)
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, 22);
  }
}

export function readVisibility(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VISIBILITY_SECONDS) {
    throw sqsError('InvalidParameterValue', `Value ${value} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200, if provided.`);
  }
  return value;
}
