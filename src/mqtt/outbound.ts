/**
 * Deliveries to one connection's client (4.3, 4.4): packet identifiers, what is in flight awaiting
 * PUBACK / PUBREC, the client's Receive Maximum (3.1.2.11.3) and Maximum Packet Size (3.1.2.11.4).
 * A QoS 1 entry is acknowledged to its queue on PUBACK, a QoS 2 entry on PUBREC (the client owns it
 * then; PUBREL / PUBCOMP finish the handshake). QoS 0 entries are settled at once.
 */
import type { QueueEntry } from '../broker/front-door.js';
import type { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import { encodePacket } from './codec/encode.js';
import type { Packet, ProtocolLevel, PublishPacket, QoS } from './codec/packets.js';
import { messageProperties, publishedQos, publishedRetained, remainingExpirySeconds } from './message-mapping.js';
import type { MqttSession, Subscription } from './session.js';
import type { PublishEncodings } from './publish-encodings.js';

interface InFlight {
  readonly entry: QueueEntry | undefined;
  readonly queue: QueueView | undefined;
}

export interface OutboundSink {
  readonly level: ProtocolLevel;
  /** Largest packet the client accepts. */
  readonly clientMaxPacketSize: number;
  /** Most unacknowledged QoS 1/2 deliveries at once. */
  readonly clientReceiveMaximum: number;
  writePacket(packet: Packet): void;
  writeBytes(bytes: Buffer): void;
  /** Shared 3.1.1 encodings of fanned-out messages. */
  readonly encodings: PublishEncodings;
}

export class Outbound {
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  /** QoS 0 (and dropped) entries, acknowledged after the dispatch call that handed them over. */
  private toSettle: { entry: QueueEntry; queue: QueueView }[] = [];
  private settleScheduled = false;
  private readonly queuesToResume = new Set<QueueView>();
  private resumeScheduled = false;

  constructor(
    private readonly sink: OutboundSink,
    private readonly session: MqttSession,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  hasRoom(): boolean {
    return this.inFlight.size < this.sink.clientReceiveMaximum;
  }

  /** One queue entry for the subscriptions of this session it matched. */
  deliver(entry: QueueEntry, queue: QueueView, subscriptions: readonly Subscription[]): void {
    const message = entry.message;
    const subs = subscriptions.filter((s) => !(s.noLocal && this.session.published.has(message)));
    if (subs.length === 0 || !this.send(message, subs, entry.redelivered, false, entry, queue)) this.settleLater(entry, queue);
  }

  /** A retained message for a new subscription (3.3.1.3: sent with RETAIN set). */
  deliverRetained(message: Message, sub: Subscription): void {
    this.send(message, [sub], false, true, undefined, undefined);
  }

  /** Returns false when nothing was sent for a queue entry that must still be settled (QoS 0, expired, too large). */
  private send(message: Message, subs: readonly Subscription[], redelivered: boolean, retained: boolean, entry: QueueEntry | undefined, queue: QueueView | undefined): boolean {
    const now = Date.now();
    const remaining = remainingExpirySeconds(message, now);
    if (remaining !== undefined && remaining <= 0) return false; // 3.3.2.3.3: expired, not sent
    let granted = 0;
    for (const s of subs) granted = Math.max(granted, s.qos);
    const qos = Math.min(granted, publishedQos(message)) as QoS;
    const retain = retained || subs.some((s) => s.retainAsPublished && publishedRetained(message));
    const properties = this.sink.level === 5 ? messageProperties(message, now) : {};
    if (this.sink.level === 5) {
      const ids = subs.map((s) => s.identifier).filter((id): id is number => id !== undefined);
      if (ids.length > 0) properties.subscriptionIdentifiers = ids;
    }
    const packetId = qos === 0 ? undefined : this.allocateId();
    const dup = qos > 0 && redelivered;
    const topic = this.sink.encodings.topicOf(message.routingKey);
    const bytes = this.sink.level !== 5 && !dup
      ? this.sink.encodings.bytes(message, topic, qos, retain, packetId)
      : encodePacket({ type: 'publish', dup, qos, retain, topic, packetId, payload: message.body, properties } satisfies PublishPacket, this.sink.level);
    // 3.1.2.11.4 (5.0): a packet over the client's maximum is discarded as if delivered.
    if (bytes.length > this.sink.clientMaxPacketSize) return false;
    if (packetId !== undefined) this.inFlight.set(packetId, { entry, queue });
    this.sink.writeBytes(bytes);
    return packetId !== undefined || entry === undefined;
  }

  private allocateId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 65535 ? 1 : id + 1;
      if (!this.inFlight.has(id) && !this.session.pendingRelease.has(id)) return id;
    }
  }

  private settleLater(entry: QueueEntry, queue: QueueView): void {
    this.toSettle.push({ entry, queue });
    if (this.settleScheduled) return;
    this.settleScheduled = true;
    queueMicrotask(() => {
      this.settleScheduled = false;
      const batch = this.toSettle;
      this.toSettle = [];
      for (const { entry: e, queue: q } of batch) q.ack(e);
    });
  }

  /** PUBACK (QoS 1). Unknown ids are ignored (4.3.2 allows a late or repeated one). */
  acknowledged(packetId: number): void {
    const flight = this.inFlight.get(packetId);
    if (flight === undefined) return;
    this.inFlight.delete(packetId);
    this.settle(flight);
  }

  /** PUBREC (QoS 2): the client has it; we answer PUBREL and wait for PUBCOMP. */
  received(packetId: number, failed: boolean): boolean {
    const flight = this.inFlight.get(packetId);
    if (flight === undefined) return false;
    this.inFlight.delete(packetId);
    this.settle(flight);
    if (!failed) {
      this.session.pendingRelease.add(packetId);
      this.session.persistQos2();
    }
    return true;
  }

  /** PUBCOMP: the QoS 2 delivery is complete. */
  completed(packetId: number): void {
    if (this.session.pendingRelease.delete(packetId)) this.session.persistQos2();
    this.resumeQueues();
  }

  private settle(flight: InFlight): void {
    if (flight.entry !== undefined && flight.queue !== undefined) {
      flight.queue.ack(flight.entry);
      this.queuesToResume.add(flight.queue);
    }
    this.scheduleResume();
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
    for (const flight of this.inFlight.values()) {
      if (flight.entry === undefined || flight.queue === undefined) continue;
      let list = byQueue.get(flight.queue);
      if (list === undefined) byQueue.set(flight.queue, (list = []));
      list.push(flight.entry);
    }
    this.inFlight.clear();
    for (const [queue, entries] of byQueue) if (!queue.deleted) queue.requeue(entries);
  }

  /** Remembers a queue to wake once this connection can take more. */
  noteQueue(queue: QueueView): void {
    this.queuesToResume.add(queue);
  }
}
