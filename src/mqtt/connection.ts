/**
 * One MQTT client connection: the state machine (awaiting CONNECT, connected, closing) around the
 * parser, the handler table, keepalive (3.1.2.10), the Will (3.1.3.2) and the session it is attached
 * to. Shown to the management API as a ConnectionView.
 */
import type { User } from '../auth/users.js';
import type { ConsumerDetails, QueueEntry } from '../broker/front-door.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { SessionAccess } from '../session/access.js';
import { PublisherConfirms, type ConfirmSink } from '../session/confirms.js';
import { DEFAULT_PUBLISHER_FLOW, PublisherFlow } from '../session/publisher-flow.js';
import type { ChannelInfo, ConnectionInfo, ConnectionView } from '../session/views.js';
import { publishLength, SHORT_ACK_BYTES, writePublish, writeShortAck, type AckKind } from './codec/direct.js';
import { encodePacket } from './codec/encode.js';
import type { Packet, ProtocolLevel, Will } from './codec/packets.js';
import { MqttParser } from './codec/parser.js';
import { MqttProtocolError, Reason } from './codec/reason-codes.js';
import type { MqttContext } from './context.js';
import { reasonForError } from './errors.js';
import { HANDLERS } from './handlers/index.js';
import { Outbound } from './outbound.js';
import type { PublishEncodings } from './publish-encodings.js';
import type { MqttSession, SessionHost, Subscription } from './session.js';
import { checkTopicName, topicToRoutingKey } from './topics.js';
import type { MqttTransport } from './transport.js';

type State = 'awaiting-connect' | 'connected' | 'closing' | 'closed';

/** A QoS 1/2 publish waiting for durability before its PUBACK / PUBREC (4.3.2, 4.3.3). */
interface PendingAck {
  readonly tag: number;
  readonly packetId: number;
  readonly kind: 'puback' | 'pubrec';
  readonly routed: boolean;
}

export class MqttConnection implements ConnectionView, SessionHost, ConfirmSink {
  readonly name: string;
  readonly connectedAt = Date.now();
  state: State = 'awaiting-connect';
  level: ProtocolLevel = 4;
  readonly parser: MqttParser;
  clientId = '';
  user: User | undefined;
  vhost: VHost | undefined;
  access!: SessionAccess;
  session: MqttSession | undefined;
  outbound: Outbound | undefined;
  will: Will | undefined;
  keepAliveSeconds = 0;
  /** Client's limits (5.0 CONNECT properties). */
  clientMaxPacketSize = Number.MAX_SAFE_INTEGER;
  clientReceiveMaximum: number;
  /** 3.3.2.3.4: client-to-server topic aliases. */
  readonly topicAliases = new Map<number, string>();
  confirms: PublisherConfirms | undefined;
  readonly pendingAcks: PendingAck[] = [];
  /** The queues the current publish reached (credit flow, barriers); reused from one publish to the next. */
  readonly reachedQueues: QueueView[] = [];
  /** Set by DISCONNECT: the Will is discarded unless the reason was 0x04 (3.14.4). */
  disconnectedCleanly = false;
  bytesIn = 0;
  bytesOut = 0;
  private lastPacketAt = Date.now();
  /** The last topic published to, checked, and its routing key: publishers mostly repeat one topic. */
  private lastTopic = '';
  private lastRoutingKey = '';
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Turn budget, credit flow and resource alarms, as for AMQP publishers (ARCHITECTURE.md "Flow control"). */
  readonly flow: PublisherFlow;

  constructor(
    readonly context: MqttContext,
    readonly transport: MqttTransport,
  ) {
    this.name = `${transport.remoteAddress}:${transport.remotePort} -> mqtt`;
    this.clientReceiveMaximum = context.settings.deliveryWindow;
    this.parser = new MqttParser({ maxPacketSize: context.settings.maxPacketSize });
    // MQTT has no connection.blocked: a blocked publisher just stops being read.
    this.flow = new PublisherFlow({ pauseInput: () => transport.pause(), resumeInput: () => transport.resume(), notifyBlocked: () => undefined, notifyUnblocked: () => undefined }, false, DEFAULT_PUBLISHER_FLOW);
    this.flow.setAlarm(context.blockedReason());
    transport.start({ data: (chunk) => this.receive(chunk), drain: () => this.drained(), closed: () => this.terminated() });
    this.connectTimer = setTimeout(() => this.close(undefined, 'no CONNECT in time'), context.settings.connectTimeoutMs);
  }

  get encodings(): PublishEncodings {
    return this.context.encodings;
  }

  get v5(): boolean {
    return this.level === 5;
  }

  private receive(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.bytesIn += chunk.length;
    this.lastPacketAt = Date.now();
    this.flow.countInput(chunk.length);
    try {
      this.parser.push(chunk, (packet) => this.handle(packet));
    } catch (error) {
      this.fail(error);
    }
  }

  private handle(packet: Packet): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    // 3.1.0: the first packet must be CONNECT, and only the first.
    if (this.state === 'awaiting-connect' && packet.type !== 'connect') throw new MqttProtocolError(Reason.ProtocolError, 'first packet must be CONNECT');
    if (this.state === 'connected' && packet.type === 'connect') throw new MqttProtocolError(Reason.ProtocolError, 'second CONNECT');
    const handler = HANDLERS[packet.type];
    if (handler === undefined) throw new MqttProtocolError(Reason.ProtocolError, `${packet.type.toUpperCase()} is not sent by clients`);
    (handler as (c: MqttConnection, p: Packet) => void)(this, packet);
  }

  /** A protocol error or a refused operation that ends the connection (4.13: DISCONNECT with the reason in 5.0). */
  fail(error: unknown): void {
    const { code, text } = reasonForError(error);
    if (!(error instanceof MqttProtocolError)) this.context.logger.warn({ err: error, connection: this.name }, 'MQTT connection closed on an error');
    else this.context.logger.debug({ connection: this.name, reason: text }, 'MQTT protocol error');
    // 3.1.2.2: an unsupported protocol level is answered with CONNACK 0x01 (3.1.1's form, which every version reads).
    if (this.state === 'awaiting-connect' && code === Reason.UnsupportedProtocolVersion) {
      this.writeBytes(encodePacket({ type: 'connack', sessionPresent: false, reasonCode: 0x01 }, 4));
    }
    this.close(this.state === 'connected' ? code : undefined, text);
  }

  writePacket(packet: Packet): void {
    this.writeBytes(encodePacket(packet, this.level));
  }

  writeBytes(bytes: Buffer): void {
    if (this.state === 'closed') return;
    this.bytesOut += bytes.length;
    this.transport.write(bytes);
  }

  /**
   * A PUBLISH encoded straight into the output block (no Buffer of its own). False when it is larger
   * than the client's Maximum Packet Size (3.1.2.11.4): nothing is written.
   */
  writePublish(headerByte: number, topic: Buffer, packetId: number | undefined, properties: Buffer | undefined, payload: Buffer): boolean {
    const length = publishLength(topic.length, packetId !== undefined, properties === undefined ? 0 : properties.length, payload.length);
    if (length > this.clientMaxPacketSize) return false;
    if (this.state === 'closed') return true;
    const output = this.transport.output;
    const block = output.reserve(length);
    output.commit(writePublish(block, output.reservedAt, headerByte, topic, packetId, properties, payload));
    this.bytesOut += length;
    return true;
  }

  /** PUBACK / PUBREC / PUBREL / PUBCOMP; the reason code only counts in 5.0 (3.1.1 has none). */
  writeAck(kind: AckKind, packetId: number, reasonCode: number): void {
    if (!this.v5 || reasonCode === Reason.Success) this.writeShortAck(kind, packetId);
    else this.writePacket({ type: kind, packetId, reasonCode });
  }

  /** The four-byte form (success, no properties), straight into the output block. */
  private writeShortAck(kind: AckKind, packetId: number): void {
    if (this.state === 'closed') return;
    const output = this.transport.output;
    writeShortAck(output.reserve(SHORT_ACK_BYTES), output.reservedAt, kind, packetId);
    output.commit(SHORT_ACK_BYTES);
    this.bytesOut += SHORT_ACK_BYTES;
  }

  /** Ends the connection; in 5.0 a connected client is told why with DISCONNECT (reason and reason string). */
  close(reasonCode: number | undefined, reasonString?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (reasonCode !== undefined && this.v5 && this.state === 'connected') {
      this.writePacket({ type: 'disconnect', reasonCode, properties: reasonString === undefined ? {} : { reasonString } });
    }
    this.state = 'closing';
    this.parser.stop();
    this.transport.end();
    // A client that does not close its side is cut off.
    setTimeout(() => this.transport.destroy(), 1000).unref();
  }

  /** The socket is gone: settle what this connection held, publish the Will, end or keep the session. */
  private terminated(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.parser.stop();
    clearTimeout(this.connectTimer);
    clearInterval(this.keepAliveTimer);
    this.confirms?.stop();
    this.flow.stop();
    this.outbound?.releaseAll();
    const session = this.session;
    if (session !== undefined && session.host === this) {
      session.detach();
      if (!this.disconnectedCleanly && this.will !== undefined) scheduleWill(this, session, this.will);
      this.context.sessions.keepOrEnd(session, this);
    }
    this.vhost?.releaseOwner(this);
    this.context.connectionClosed(this);
  }

  startKeepAlive(seconds: number): void {
    clearTimeout(this.connectTimer);
    this.keepAliveSeconds = seconds;
    if (seconds === 0) return;
    // 3.1.2.10: one and a half times the keep alive without a packet closes the connection.
    const limit = seconds * 1500;
    this.keepAliveTimer = setInterval(() => {
      if (Date.now() - this.lastPacketAt > limit) this.close(Reason.KeepAliveTimeout, 'keep alive timeout');
    }, Math.max(250, Math.min(limit / 4, 5000)));
    this.keepAliveTimer.unref?.();
  }

  /** A PUBLISH's topic checked (4.7.3) and as a routing key; throws for an invalid one. */
  routingKeyOf(topic: string): string {
    if (topic === this.lastTopic) return this.lastRoutingKey;
    checkTopicName(topic);
    this.lastRoutingKey = topicToRoutingKey(topic);
    this.lastTopic = topic;
    return this.lastRoutingKey;
  }

  // ---- publishing: acknowledgements after durability -------------------------------------------

  /** A QoS 1/2 publish was routed: its PUBACK/PUBREC follows once everything it touched is durable. */
  awaitDurable(packetId: number, kind: 'puback' | 'pubrec', routed: boolean, refused: boolean): void {
    this.confirms ??= new PublisherConfirms(this.context.broker, this);
    const tag = this.confirms.accept(refused);
    this.pendingAcks.push({ tag, packetId, kind, routed });
  }

  confirm(deliveryTag: number, _multiple: boolean, ack: boolean): void {
    while (this.pendingAcks.length > 0 && this.pendingAcks[0]!.tag <= deliveryTag) {
      const pending = this.pendingAcks.shift()!;
      const reasonCode = !ack ? Reason.QuotaExceeded : pending.routed || pending.kind === 'pubrec' ? Reason.Success : Reason.NoMatchingSubscribers;
      if (!ack && pending.kind === 'pubrec' && this.session?.inboundQos2.delete(pending.packetId) === true) this.session.persistQos2();
      this.writeAck(pending.kind, pending.packetId, reasonCode);
    }
  }

  // ---- alarms ---------------------------------------------------------------------------------

  alarmChanged(reason: string | undefined): void {
    this.flow.setAlarm(reason);
  }

  // ---- delivering: the session's consumers call these -----------------------------------------

  canDeliver(): boolean {
    return this.state === 'connected' && this.outbound !== undefined && this.outbound.hasRoom() && this.transport.writableLength < this.context.settings.highWaterMark;
  }

  deliver(entry: QueueEntry, queue: QueueView, subscriptions: readonly Subscription[]): void {
    if (this.outbound === undefined) return void queue.requeue([entry]);
    this.outbound.deliver(entry, queue, subscriptions);
    if (!this.canDeliver()) this.outbound.noteQueue(queue);
  }

  private drained(): void {
    this.session?.resumeDispatch();
  }

  get location(): ConsumerDetails['channel'] {
    return { name: `${this.name} (1)`, number: 1, connectionName: this.name, peerHost: this.transport.remoteAddress, peerPort: this.transport.remotePort, user: this.user?.name };
  }

  // ---- ConnectionView -------------------------------------------------------------------------

  info(): ConnectionInfo {
    return {
      name: this.name,
      protocol: this.level === 5 ? 'MQTT 5.0' : this.level === 3 ? 'MQTT 3.1' : 'MQTT 3.1.1',
      peerHost: this.transport.remoteAddress,
      peerPort: this.transport.remotePort,
      user: this.user?.name,
      vhost: this.vhost?.name,
      state: this.state === 'connected' ? this.flow.stateName : this.state === 'awaiting-connect' ? 'starting' : 'closing',
      channels: this.state === 'connected' ? 1 : 0,
      clientProperties: { client_id: this.clientId, transport: this.transport.kind },
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      frameMax: this.context.settings.maxPacketSize,
      channelMax: 1,
      heartbeat: this.keepAliveSeconds,
      tls: this.transport.tls,
      authMechanism: 'MQTT CONNECT',
    };
  }

  channels(): ChannelInfo[] {
    if (this.state !== 'connected') return [];
    return [{
      number: 1,
      state: 'running',
      consumerCount: (this.session?.subscriptions.size ?? 0) + (this.session?.shared.size ?? 0),
      prefetchCount: this.clientReceiveMaximum,
      globalPrefetchCount: 0,
      unacknowledged: this.outbound?.inFlightCount ?? 0,
      confirm: true,
      transactional: false,
    }];
  }

  async forceClose(reason: string): Promise<void> {
    this.close(Reason.AdministrativeAction, reason);
  }
}

/** 3.1.3.2.2 (5.0): the Will is published after its delay, or when the session ends if that is sooner. */
function scheduleWill(connection: MqttConnection, session: MqttSession, will: Will): void {
  const delay = connection.v5 ? (will.properties.willDelayInterval ?? 0) : 0;
  const publish = (): void => connection.context.publishWill(connection, session, will);
  if (delay === 0 || !session.persistent) return publish();
  const ms = Math.min(delay, session.expirySeconds) * 1000;
  session.willTimer = setTimeout(() => {
    session.willTimer = undefined;
    publish();
  }, ms);
  session.willTimer.unref?.();
}
