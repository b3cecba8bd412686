import type { Logger } from 'pino';
import { ChannelError, ConnectionError, ConnectionReplyCode, toAmqpError } from './errors.js';
import type { ChannelTable } from './channel-table.js';
import type { Frame } from './codec/frames.js';
import type { ConnectionCloser } from './connection-close.js';
import type { ConnectionHandshake } from './connection-handshake.js';
import { ConnectionState, STATE_NAMES } from './connection-types.js';
import { MethodId } from './spec/generated.js';

/** basic.publish: errors in its content frames are reported against it, as RabbitMQ does. */
const BASIC_PUBLISH_CLASS = 60;
const BASIC_PUBLISH_METHOD = 40;

/** The connection state the router decides by. */
export interface RoutedConnection {
  readonly state: ConnectionState;
  readonly channelMax: number;
}

/**
 * Where each parsed frame goes (channel 0 to the handshake or the close handshake, other channels to the
 * channel table), and how an error thrown on the way becomes a channel.close or a connection.close.
 */
export class FrameRouter {
  constructor(
    private readonly connection: RoutedConnection,
    private readonly handshake: ConnectionHandshake,
    private readonly channels: ChannelTable,
    private readonly closer: ConnectionCloser,
    private readonly log: Logger,
  ) {}

  /** FrameParser handler: every complete frame, in order. */
  onFrame(frame: Frame): void {
    if (this.connection.state >= ConnectionState.Closing) {
      this.closer.onFrameWhileClosing(frame);
      return;
    }
    try {
      if (frame.channel === 0) this.onChannelZeroFrame(frame);
      else this.onChannelFrame(frame);
    } catch (thrown) {
      const [classId, methodId] = failedMethod(frame);
      const err = toAmqpError(thrown) ?? thrown;
      if (frame.channel !== 0 && !(err instanceof ConnectionError)) this.onChannelError(frame.channel, err, classId, methodId);
      else this.onConnectionError(err, classId, methodId);
    }
  }

  private onChannelZeroFrame(frame: Frame): void {
    if (frame.type === 8) return; // heartbeat: arriving bytes already reset the monitor
    if (frame.type !== 1) {
      throw new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `unexpected content frame (type ${frame.type}) on channel 0`);
    }
    const method = frame.method;
    switch (method.id) {
      case MethodId.ConnectionStartOk:
        this.expectState(ConnectionState.AwaitingStartOk);
        this.handshake.onStartOk(method.args.clientProperties, method.args.mechanism, method.args.response);
        return;
      case MethodId.ConnectionTuneOk:
        this.expectState(ConnectionState.AwaitingTuneOk);
        this.handshake.onTuneOk(method.args);
        return;
      case MethodId.ConnectionOpen:
        this.expectState(ConnectionState.AwaitingOpen);
        this.handshake.onOpen(method.args.virtualHost);
        return;
      case MethodId.ConnectionClose:
        this.closer.onClientClose(method.args.replyCode, method.args.replyText);
        return;
      case MethodId.ConnectionUpdateSecret:
        this.expectState(ConnectionState.Open);
        this.handshake.onUpdateSecret(method.args.newSecret, method.args.reason);
        return;
      default:
        throw unexpectedMethod(this.connection.state);
    }
  }

  private onChannelFrame(frame: Frame): void {
    if (this.connection.state !== ConnectionState.Open) {
      throw new ConnectionError(ConnectionReplyCode.UnexpectedFrame, `frame on channel ${frame.channel} before connection.open`);
    }
    this.channels.route(frame, this.connection.channelMax);
  }

  private expectState(expected: ConnectionState): void {
    if (this.connection.state !== expected) throw unexpectedMethod(this.connection.state);
  }

  /**
   * A channel failed: a channel-level error (the core's errors mapped by kind, amqp/errors.ts) closes
   * just it; anything else escalates to the connection.
   */
  onChannelError(channelId: number, thrown: unknown, classId: number, methodId: number): void {
    const err = toAmqpError(thrown) ?? thrown;
    if (!(err instanceof ChannelError) || !this.channels.has(channelId)) {
      this.onConnectionError(err, classId, methodId);
      return;
    }
    if (this.connection.state === ConnectionState.Open) this.channels.closeWithError(channelId, err, classId, methodId);
  }

  private onConnectionError(thrown: unknown, classId: number, methodId: number): void {
    const err = toAmqpError(thrown) ?? thrown;
    if (err instanceof ConnectionError) this.closer.closeWithError(err, classId, methodId);
    else this.internalError(err, 'unexpected error while handling a frame');
  }

  /** Anything that is not a broker error is a bug: log it and close the connection with 541. */
  internalError(err: unknown, what: string): void {
    this.log.error({ err }, what);
    this.closer.closeWithError(new ConnectionError(ConnectionReplyCode.InternalError, 'internal error'), 0, 0);
  }
}

/** Class and method ids reported in a close for the frame that failed (content counts as basic.publish). */
function failedMethod(frame: Frame): [number, number] {
  if (frame.type === 1) return [frame.method.id >>> 16, frame.method.id & 0xffff];
  if (frame.type === 2 || frame.type === 3) return [BASIC_PUBLISH_CLASS, BASIC_PUBLISH_METHOD];
  return [0, 0];
}

/** RabbitMQ's answer to a connection method out of sequence. */
function unexpectedMethod(state: ConnectionState): ConnectionError {
  return new ConnectionError(ConnectionReplyCode.ChannelError, `unexpected method in connection state ${STATE_NAMES[state]}`);
}
