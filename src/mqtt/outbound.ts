/**
 * Deliveries to one connection's client (4.3, 4.4): packet identifiers, what is in flight awaiting
 * PUBACK / PUBREC, the client's Receive Maximum (3.1.2.11.3) and Maximum Packet Size (3.1.2.11.4).
 * A QoS 1 entry is acknowledged to its queue on PUBACK, a QoS 2 entry on PUBREC (the client owns it
 * then; PUBREL / PUBCOMP finish the handshake). QoS 0 entries are settled at once.
 */
import type { QueueEntry } from '../broker/front-door.js';
import type { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import { publishHeaderByte } from './codec/direct.js';
import { encodeProperties } from './codec/encode.js';
import type { ProtocolLevel, QoS } from './codec/packets.js';
import { messageProperties, publishedQos, publishedRetained, remainingExpirySeconds } from './message-mapping.js';
import type { MqttSession, Subscription } from './session.js';
import type { PublishEncodings } from './publish-encodings.js';
import { emptyArray } from '../util/empty-array.js';

export interface OutboundSink {
  readonly level: ProtocolLevel;
  /** Most unacknowledged QoS 1/2 deliveries at once. */
  readonly clientReceiveMaximum: number;
  /** Writes a PUBLISH into the output; false when it exceeds the client's Maximum Packet Size. */
  writePublish(headerByte: number, topic: Buffer, packetId: number | undefined, properties: Buffer | undefined, payload: Buffer): boolean;
  /** Topic bytes and body views shared by the door's deliveries. */
  readonly encodings: PublishEncodings;
}

/** In flight without a queue entry: a retained message sent for a new subscription. */
const RETAINED = null;
/** Packet identifiers cycle through 1..span (at least twice the window: a PUBACK frees its id for reuse). */
const MIN_ID_SPAN = 64;
const MAX_PACKET_ID = 65535;

export class Outbound {
  /**
   * In flight, by packet id: the queue entry (RETAINED when there is none) and its queue, in two
   * arrays rather than a map of records, so a QoS 1 delivery allocates nothing. Ids are kept within a
   * span near the window, which bounds the arrays.
   */
  private readonly flightEntries: (QueueEntry | typeof RETAINED | undefined)[] = [];
  private readonly flightQueues: (QueueView | undefined)[] = [];
  private flightCount = 0;
  private idSpan = 0;
  private nextId = 1;
  /** QoS 0 (and dropped) entries, acknowledged after the dispatch call that handed them over. */
  private readonly settleEntries: QueueEntry[] = [];
  private readonly settleQueues: QueueView[] = [];
  private settleScheduled = false;
  private readonly queuesToResume = new Set<QueueView>();
  private resumeScheduled = false;

  constructor(
    private readonly sink: OutboundSink,
    private readonly session: MqttSession,
  ) {}

  get inFlightCount(): number {
    return this.flightCount;
  }

  hasRoom(): boolean {
    return this.flightCount < this.sink.clientReceiveMaximum;
  }

  /** One queue entry for the subscriptions of this session it matched. */
  deliver(entry: QueueEntry, queue: QueueView, subscriptions: readonly Subscription[]): void {
    if (!this.send(entry.message, subscriptions, entry.redelivered, false, entry, queue)) this.settleLater(entry, queue);
  }

  /** A retained message for a new subscription (3.3.1.3: sent with RETAIN set). */
  deliverRetained(message: Message, sub: Subscription): void {
    this.send(message, [sub], false, true, undefined, undefined);
  }

  /**
   * Returns false when nothing was sent for a queue entry that must still be settled (QoS 0, no
   * subscription left after No Local, expired, too large). Written without arrays or records: this
   * runs once per delivery.
   */
  private send(message: Message, subs: readonly Subscription[], redelivered: boolean, retained: boolean, entry: QueueEntry | undefined, queue: QueueView | undefined): boolean {
    // 5.0 No Local (3.8.3.1): the session's own messages skip its No Local subscriptions (asked only
    // when one has it).
    let local: boolean | undefined;
    let granted = -1;
    let retainAsPublished = false;
    for (const s of subs) {
      if (s.noLocal && (local ??= this.session.published.has(message))) continue;
      if (s.qos > granted) granted = s.qos;
      if (s.retainAsPublished) retainAsPublished = true;
    }
    if (granted < 0) return false;
    const expiring = message.properties.expiration !== undefined;
    const now = expiring || this.sink.level === 5 ? Date.now() : 0;
    if (expiring && remainingExpirySeconds(message, now)! <= 0) return false; // 3.3.2.3.3: expired, not sent
    const qos = Math.min(granted, publishedQos(message)) as QoS;
    const retain = retained || (retainAsPublished && publishedRetained(message));
    const packetId = qos === 0 ? undefined : this.allocateId();
    const encodings = this.sink.encodings;
    const properties = this.sink.level === 5 ? this.properties(message, now, subs, local === true) : undefined;
    // 3.1.2.11.4 (5.0): a packet over the client's maximum is discarded as if delivered.
    if (!this.sink.writePublish(publishHeaderByte(qos > 0 && redelivered, qos, retain), encodings.topicBytes(message.routingKey), packetId, properties, encodings.bodyOf(message))) return false;
    if (packetId === undefined) return entry === undefined;
    this.flightEntries[packetId] = entry ?? RETAINED;
    this.flightQueues[packetId] = queue;
    this.flightCount++;
    return true;
  }

  /** A 5.0 subscriber's properties: the message's, plus the identifiers of the subscriptions it matched. */
  private properties(message: Message, now: number, subs: readonly Subscription[], local: boolean): Buffer {
    const properties = messageProperties(message, now);
    for (const s of subs) {
      if (s.identifier === undefined || (local && s.noLocal)) continue;
      (properties.subscriptionIdentifiers ??= []).push(s.identifier);
    }
    return encodeProperties(properties);
  }

  private allocateId(): number {
    if (this.idSpan === 0) this.idSpan = Math.min(MAX_PACKET_ID, Math.max(MIN_ID_SPAN, 2 * this.sink.clientReceiveMaximum));
    const releasing = this.session.pendingRelease;
    for (let tried = 0; ; tried++) {
      // Every id of the span is taken (retained messages are sent beyond the window): use them all.
      if (tried === this.idSpan) this.idSpan = MAX_PACKET_ID;
      const id = this.nextId;
      this.nextId = id >= this.idSpan ? 1 : id + 1;
      if (this.flightEntries[id] === undefined && (releasing.size === 0 || !releasing.has(id))) return id;
    }
  }

  private settleLater(entry: QueueEntry, queue: QueueView): void {
    this.settleEntries.push(entry);
    this.settleQueues.push(queue);
    if (this.settleScheduled) return;
    this.settleScheduled = true;
    queueMicrotask(this.settleNow);
  }

  private readonly settleNow = (): void => {
    const entries = this.settleEntries;
    const queues = this.settleQueues;
    // An ack may dispatch again and add entries: they are settled in this pass too.
    for (let i = 0; i < entries.length; i++) queues[i]!.ack(entries[i]!);
    emptyArray(entries);
    emptyArray(queues);
    this.settleScheduled = false;
  };

  /** PUBACK (QoS 1). Unknown ids are ignored (4.3.2 allows a late or repeated one). */
  acknowledged(packetId: number): void {
    this.land(packetId);
  }

  /** PUBREC (QoS 2): the client has it; we answer PUBREL and wait for PUBCOMP. */
  received(packetId: number, failed: boolean): boolean {
    if (!this.land(packetId)) return false;
    if (!failed) {
      this.session.pendingRelease.add(packetId);
      this.session.persistQos2();
    }
    return true;
  }

  /** The in-flight delivery `packetId` is acknowledged: its entry is settled. False if unknown. */
  private land(packetId: number): boolean {
    const entry = this.flightEntries[packetId];
    if (entry === undefined) return false;
    const queue = this.flightQueues[packetId];
    this.flightEntries[packetId] = undefined;
    this.flightQueues[packetId] = undefined;
    this.flightCount--;
    if (entry !== RETAINED && queue !== undefined) {
      queue.ack(entry);
      this.queuesToResume.add(queue);
    }
    this.scheduleResume();
    return true;
  }

  /** PUBCOMP: the QoS 2 delivery is complete. */
  completed(packetId: number): void {
    if (this.session.pendingRelease.delete(packetId)) this.session.persistQos2();
    this.resumeQueues();
  }

  /**
   * The queues are woken once after the PUBACKs of one read (a microtask runs after the parser has
   * handled the whole chunk), not once per PUBACK: each wake-up is a dispatch pass over the queue,
   * and a client answering a burst sends its PUBACKs together.
   */
  private scheduleResume(): void {
    if (this.resumeScheduled) return;
    this.resumeScheduled = true;
    queueMicrotask(this.resumeLater);
  }

  private readonly resumeLater = (): void => {
    this.resumeScheduled = false;
    this.resumeQueues();
  };

  resumeQueues(): void {
    if (this.queuesToResume.size === 0) return;
    const queues = [...this.queuesToResume];
    this.queuesToResume.clear();
    for (const q of queues) q.resumeDispatch();
  }

  /** The connection ended: unacknowledged entries go back to their queues, redelivered (4.4). */
  releaseAll(): void {
    const byQueue = new Map<QueueView, QueueEntry[]>();
    for (let id = 1; id < this.flightEntries.length; id++) {
      const entry = this.flightEntries[id];
      const queue = this.flightQueues[id];
      if (entry === undefined || entry === RETAINED || queue === undefined) continue;
      let list = byQueue.get(queue);
      if (list === undefined) byQueue.set(queue, (list = []));
      list.push(entry);
    }
    this.flightEntries.length = 0;
    this.flightQueues.length = 0;
    this.flightCount = 0;
    // Requeued in queue order (the ids wrap, so id order is not delivery order).
    for (const [queue, entries] of byQueue) if (!queue.deleted) queue.requeue(entries.sort((a, b) => a.seq - b.seq));
  }

  /** Remembers a queue to wake once this connection can take more. */
  noteQueue(queue: QueueView): void {
    this.queuesToResume.add(queue);
  }
}
