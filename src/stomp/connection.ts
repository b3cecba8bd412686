import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { QueueEntry } from '../broker/front-door.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { User, UserRegistry } from '../auth/users.js';
import type { SessionAccess } from '../session/access.js';
import { BarrierSet } from '../session/durability.js';
import { PublisherFlow, type FlowQueue, type PublisherFlowSettings } from '../session/publisher-flow.js';
import { channelName, type ChannelInfo, type ConnectionInfo, type ConnectionView } from '../session/views.js';
import { encodeFrame, HEARTBEAT } from './codec/encoder.js';
import type { HeaderEscaping, StompFrame } from './codec/frame.js';
import { StompParser, type ParserLimits } from './codec/parser.js';
import { destinationOf } from './destinations.js';
import { toStompError } from './errors.js';
import { COMMAND_HANDLERS } from './handlers/index.js';
import { Heartbeats } from './heartbeat.js';
import { headersForDelivery } from './message-mapping.js';
import { ReceiptQueue } from './receipts.js';
import { StompSubscription, type SubscriptionHost } from './subscription.js';
import type { StompTransport } from './transport.js';

export interface StompSettings {
  readonly parserLimits: ParserLimits;
  /** The shortest heart-beat interval the server agrees to, in ms (RabbitMQ offers what clients ask). */
  readonly minHeartbeatMs: number;
  /** CONNECT must arrive within this (RabbitMQ's STOMP plugin: 10 s). */
  readonly connectTimeoutMs: number;
  readonly publisherFlow: PublisherFlowSettings;
  readonly maxConnections: number;
}

/** What every connection of a listener shares. */
export interface StompContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  readonly settings: StompSettings;
  blockedReason(): string | undefined;
  openConnectionCount(): number;
  connectionClosed(connection: StompConnection): void;
}

export type StompVersion = '1.0' | '1.1' | '1.2';

/** What an authenticated session has; set by CONNECT. */
export interface StompSession {
  readonly version: StompVersion;
  readonly user: User;
  readonly vhost: VHost;
  readonly access: SessionAccess;
  readonly id: string;
  readonly clientProperties: Record<string, string>;
  readonly heartbeatMs: number;
}

let connectionSeq = 0;

/**
 * One STOMP client over any transport: the state machine (awaiting CONNECT, connected, closing) and
 * what the command handlers share. Frames are dispatched by command through COMMAND_HANDLERS; a
 * handler's error becomes an ERROR frame, after which the connection closes (STOMP 1.2 "ERROR").
 */
export class StompConnection implements ConnectionView, SubscriptionHost {
  readonly name: string;
  readonly connectedAt = Date.now();
  readonly parser: StompParser;
  session: StompSession | undefined;
  state: 'starting' | 'running' | 'closing' | 'closed' = 'starting';
  readonly subscriptions = new Map<string, StompSubscription>();
  /** Delivery tag -> its subscription, for ACK/NACK of any subscription by ack id. */
  readonly deliveries = new Map<number, StompSubscription>();
  /** Open transactions (BEGIN ... COMMIT/ABORT): the work each will do on COMMIT, in order. */
  readonly transactions = new Map<string, Array<() => void>>();
  /** /temp-queue/<name> -> the queue made for it. */
  readonly tempQueues = new Map<string, string>();
  readonly receipts: ReceiptQueue;
  /** Durability barriers touched by SENDs since the last receipt's wait began. */
  barriers: BarrierSet;
  readonly flow: PublisherFlow;
  readonly serial = ++connectionSeq;
  private nextTag = 0;
  private disconnecting = false;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private heartbeats: Heartbeats | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  bytesIn = 0;
  bytesOut = 0;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  readonly log: Logger;

  constructor(
    readonly transport: StompTransport,
    readonly context: StompContext,
    localName: string,
  ) {
    this.name = `${transport.peerHost}:${transport.peerPort} -> ${localName}`;
    this.log = context.logger.child({ connection: this.name });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.parser = new StompParser(
      { frame: (frame) => this.onFrame(frame), heartbeat: () => undefined },
      context.settings.parserLimits,
    );
    this.receipts = new ReceiptQueue((id, lost) => this.writeReceipt(id, lost));
    this.barriers = new BarrierSet(context.broker);
    this.flow = new PublisherFlow(
      {
        pauseInput: () => transport.pauseInput(),
        resumeInput: () => transport.resumeInput(),
        notifyBlocked: () => undefined,
        notifyUnblocked: () => undefined,
      },
      false,
      context.settings.publisherFlow,
    );
    this.flow.setAlarm(context.blockedReason());
    transport.onData((chunk) => this.onData(chunk));
    transport.onDrain(() => this.resumeSubscriptions());
    transport.onClose(() => this.onTransportClosed());
    this.connectTimer = setTimeout(() => this.fail({ message: 'Timeout', detail: 'no CONNECT frame within the connect timeout' }), context.settings.connectTimeoutMs);
    this.connectTimer.unref();
  }

  get owner(): this {
    return this;
  }

  get vhost(): VHost {
    return this.requireSession().vhost;
  }

  requireSession(): StompSession {
    if (this.session === undefined) throw new Error('not connected');
    return this.session;
  }

  // ---- input -------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.bytesIn += chunk.length;
    this.heartbeats?.received();
    this.flow.countInput(chunk.length);
    try {
      this.parser.push(chunk);
    } catch (error) {
      this.fail(toStompError(error));
    }
  }

  private onFrame(frame: StompFrame): void {
    if (this.state === 'closing' || this.state === 'closed' || this.disconnecting) return;
    const handler = COMMAND_HANDLERS[frame.command];
    try {
      if (handler === undefined) {
        this.fail({ message: 'Bad command', detail: `Could not interpret command ${frame.command}` }, frame.headers.get('receipt'));
        return;
      }
      if (this.session === undefined && frame.command !== 'CONNECT' && frame.command !== 'STOMP') {
        this.fail({ message: 'Illegal command', detail: 'You must log in using CONNECT first' }, frame.headers.get('receipt'));
        return;
      }
      handler(this, frame);
    } catch (error) {
      if (!(error instanceof Error) || error.name === 'Error' || error.name === 'TypeError') this.log.warn({ err: error }, 'STOMP frame failed');
      this.fail(toStompError(error), frame.headers.get('receipt'));
    }
  }

  /** CONNECT succeeded. */
  opened(session: StompSession, heartbeats: Heartbeats): void {
    clearTimeout(this.connectTimer);
    this.session = session;
    this.state = 'running';
    this.parser.escaping = escapingOf(session.version);
    this.heartbeats = heartbeats;
    heartbeats.start();
  }

  // ---- output ------------------------------------------------------------------------------------

  /** Writes one frame (batched: one transport write per turn). */
  send(command: string, headers: Iterable<readonly [string, string]>, body?: Buffer): void {
    if (this.state === 'closed') return;
    const escaping: HeaderEscaping = command === 'CONNECTED' || this.session === undefined ? 'none' : escapingOf(this.session.version);
    this.push(encodeFrame(command, headers, body, escaping));
  }

  private push(bytes: Buffer): void {
    this.out.push(bytes);
    this.outBytes += bytes.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.out.length === 0 || this.state === 'closed') return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    this.bytesOut += data.length;
    this.heartbeats?.wrote();
    this.transport.write(data);
  };

  sendHeartbeat(): void {
    this.push(HEARTBEAT);
  }

  private writeReceipt(id: string, lost: boolean): void {
    if (lost) this.fail({ message: 'Message may be lost', detail: 'the broker could not make the message durable; send it again' }, id);
    else this.send('RECEIPT', [['receipt-id', id]]);
    if (this.disconnecting && this.receipts.pending === 0) this.closeAfterFlush();
  }

  /** DISCONNECT with a receipt: nothing more is read; the connection closes once its receipt is out. */
  closeWhenReceiptsDone(): void {
    this.disconnecting = true;
    if (this.receipts.pending === 0) this.closeAfterFlush();
  }

  /** A receipt for a frame that needs nothing more. */
  receipt(frame: StompFrame): void {
    const id = frame.headers.get('receipt');
    if (id !== undefined) this.receipts.now(id);
  }

  /**
   * ERROR (with the receipt-id of the frame at fault) and close: the spec says the server MUST close
   * the connection after sending ERROR.
   */
  fail(report: { message: string; detail: string }, receiptId?: string): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const headers: Array<[string, string]> = [['message', report.message]];
    if (receiptId !== undefined) headers.push(['receipt-id', receiptId]);
    headers.push(['content-type', 'text/plain']);
    this.send('ERROR', headers, Buffer.from(report.detail + '\n'));
    this.log.debug({ message: report.message, detail: report.detail }, 'STOMP error');
    this.closeAfterFlush();
  }

  /** Flushes what is queued, then ends the transport. */
  closeAfterFlush(): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    this.state = 'closing';
    this.releaseSession();
    this.flush();
    this.transport.end();
    // A peer that never reads must not keep the socket.
    setTimeout(() => this.transport.destroy(), 1000).unref();
  }

  // ---- deliveries ----------------------------------------------------------------------------------

  canDeliver(): boolean {
    return this.state === 'running' && this.outBytes < 256 * 1024 && this.transport.writable();
  }

  deliver(subscription: StompSubscription, entry: QueueEntry, queue: QueueView): void {
    const tag = ++this.nextTag;
    const message = entry.message;
    const destination = destinationOf(message.exchange, message.routingKey);
    const headers = headersForDelivery(entry, destination);
    const messageId = `T_${subscription.id}@@session-${this.session?.id ?? ''}@@${tag}`;
    headers.push(['subscription', subscription.id], ['message-id', messageId]);
    if (!subscription.noAck) {
      subscription.unacked.set(tag, { tag, entry, queue });
      this.deliveries.set(tag, subscription);
      if (this.session?.version === '1.2') headers.push(['ack', messageId]);
    }
    this.send('MESSAGE', headers, message.body);
  }

  cancelledByBroker(subscription: StompSubscription): void {
    this.subscriptions.delete(subscription.id);
    this.fail({ message: 'Subscription cancelled', detail: `the queue of subscription '${subscription.id}' was deleted` });
  }

  get location(): { name: string; number: number; connectionName: string; peerHost: string; peerPort: number; user: string | undefined } {
    return {
      name: channelName(this, 1),
      number: 1,
      connectionName: this.name,
      peerHost: this.transport.peerHost,
      peerPort: this.transport.peerPort,
      user: this.session?.user.name,
    };
  }

  /** Looks up the delivery an ACK/NACK names by its ack id (`...@@<tag>`). */
  deliveryFor(ackId: string): { subscription: StompSubscription; tag: number } | undefined {
    const at = ackId.lastIndexOf('@@');
    const tag = Number(ackId.slice(at + 2));
    if (at < 0 || !Number.isInteger(tag)) return undefined;
    const subscription = this.deliveries.get(tag);
    if (subscription === undefined || !subscription.unacked.has(tag)) return undefined;
    return { subscription, tag };
  }

  resumeSubscriptions(): void {
    for (const subscription of this.subscriptions.values()) subscription.queue.resumeDispatch();
  }

  /** A SEND reached these queues: credit flow looks at them, receipts wait for their barriers. */
  publishedTo(queues: readonly QueueView[]): void {
    this.flow.publishedTo(queues as readonly FlowQueue[]);
    for (const queue of queues) if (queue.durability !== undefined) this.barriers.join(queue.durability);
  }

  /** Removes a subscription; what it held goes back to its queue. */
  endSubscription(subscription: StompSubscription): void {
    subscription.active = false;
    this.subscriptions.delete(subscription.id);
    subscription.queue.removeConsumer(subscription);
    const held = [...subscription.unacked.values()];
    subscription.unacked.clear();
    for (const h of held) this.deliveries.delete(h.tag);
    if (held.length > 0) subscription.queue.requeue(held.map((h) => h.entry));
    if (subscription.ownQueue && !subscription.queue.deleted) {
      try {
        this.vhost.deleteQueue(subscription.queue.name, { ifUnused: false, ifEmpty: false }, this);
      } catch {
        // Already gone (auto-delete): nothing to do.
      }
    }
  }

  private releaseSession(): void {
    clearTimeout(this.connectTimer);
    this.heartbeats?.stop();
    this.flow.stop();
    if (this.session === undefined) return;
    for (const subscription of [...this.subscriptions.values()]) this.endSubscription(subscription);
    this.transactions.clear();
    this.session.vhost.releaseOwner(this);
  }

  private onTransportClosed(): void {
    if (this.state !== 'closing') this.releaseSession();
    this.state = 'closed';
    this.context.connectionClosed(this);
    this.resolveClosed();
  }

  destroy(): void {
    this.transport.destroy();
  }

  // ---- the management API's view ------------------------------------------------------------------

  info(): ConnectionInfo {
    const session = this.session;
    return {
      name: this.name,
      protocol: `STOMP ${session?.version ?? '1.0'}`,
      peerHost: this.transport.peerHost,
      peerPort: this.transport.peerPort,
      user: session?.user.name,
      vhost: session?.vhost.name,
      state: this.state === 'running' ? this.flow.stateName : this.state,
      channels: session === undefined ? 0 : 1,
      clientProperties: session?.clientProperties ?? {},
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      frameMax: 0,
      channelMax: 0,
      heartbeat: Math.round((session?.heartbeatMs ?? 0) / 1000),
      tls: this.transport.tls,
      authMechanism: 'STOMP',
    };
  }

  channels(): ChannelInfo[] {
    if (this.session === undefined) return [];
    let unacked = 0;
    let prefetch = 0;
    for (const s of this.subscriptions.values()) {
      unacked += s.unacked.size;
      prefetch = Math.max(prefetch, s.prefetch);
    }
    return [
      {
        number: 1,
        state: this.state === 'running' ? this.flow.stateName : this.state,
        consumerCount: this.subscriptions.size,
        prefetchCount: prefetch,
        globalPrefetchCount: 0,
        unacknowledged: unacked,
        confirm: false,
        transactional: this.transactions.size > 0,
      },
    ];
  }

  forceClose(reason: string): Promise<void> {
    this.fail({ message: 'Connection closed', detail: `closed by the broker: ${reason}` });
    return this.closed;
  }

  setAlarm(reason: string | undefined): void {
    this.flow.setAlarm(reason);
  }
}

export function escapingOf(version: StompVersion): HeaderEscaping {
  return version === '1.0' ? 'none' : version;
}
