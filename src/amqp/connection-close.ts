import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConnectionError, ConnectionReplyCode, type AmqpError } from './errors.js';
import type { ChannelTable } from './channel-table.js';
import type { FrameWriter } from './codec/encode.js';
import type { Frame } from './codec/frames.js';
import { ConnectionState, STATE_NAMES } from './connection-types.js';
import { PROTOCOL_HEADER } from './handshake.js';
import { MethodId } from './spec/generated.js';

/** What closing needs of its connection; `state` is shared and moved forward here. */
export interface ClosingConnection {
  state: ConnectionState;
  readonly writer: FrameWriter;
  flush(): void;
}

/**
 * The end of a connection: the connection.close handshake both ways (spec 2.2.4), the half-close of the
 * socket, and the two timers that destroy a socket nobody finishes with (handshake and close timeouts).
 */
export class ConnectionCloser {
  private handshakeTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: ClosingConnection,
    private readonly socket: Socket,
    private readonly channels: ChannelTable,
    private readonly log: Logger,
    private readonly closeTimeoutMs: number,
  ) {}

  /** A client that has not sent connection.open within `ms` is dropped. */
  startHandshakeTimer(ms: number): void {
    this.handshakeTimer = setTimeout(() => this.onHandshakeTimeout(), ms);
    this.handshakeTimer.unref();
  }

  clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  private onHandshakeTimeout(): void {
    this.handshakeTimer = undefined;
    const state = this.connection.state;
    if (state >= ConnectionState.Open) return;
    this.log.warn({ state: STATE_NAMES[state] }, 'handshake timeout, closing connection');
    this.socket.destroy();
  }

  /** connection.close with the error, then wait for close-ok. */
  closeWithError(err: AmqpError, classId: number, methodId: number): void {
    const connection = this.connection;
    if (connection.state >= ConnectionState.Closing) return;
    if (connection.state === ConnectionState.AwaitingHeader) {
      this.socket.destroy();
      return;
    }
    const level = err.replyCode === ConnectionReplyCode.ConnectionForced ? 'info' : 'warn';
    this.log[level]({ replyCode: err.replyCode, reason: err.message }, 'closing connection');
    connection.state = ConnectionState.Closing;
    this.clearHandshakeTimer();
    this.channels.teardownAll();
    connection.writer.writeMethod(0, {
      id: MethodId.ConnectionClose,
      args: { replyCode: err.replyCode, replyText: err.replyText, classId, methodId },
    });
    connection.flush();
    this.destroyLater();
  }

  /** Server shutdown: connection.close 320 (RabbitMQ's wording). */
  forceClose(reason: string): void {
    if (this.connection.state <= ConnectionState.AwaitingHeader) {
      this.socket.destroy();
      return;
    }
    const text = `broker forced connection closure with reason '${reason}'`;
    this.closeWithError(new ConnectionError(ConnectionReplyCode.ConnectionForced, text), 0, 0);
  }

  /** The client closes: tear everything down, confirm, and let the client close the socket. */
  onClientClose(replyCode: number, replyText: string): void {
    this.log.info({ replyCode, replyText }, 'client closed connection');
    this.channels.teardownAll();
    this.sendCloseOkAndEnd();
  }

  /** While our connection.close is out, only close-ok or a crossing close matter. */
  onFrameWhileClosing(frame: Frame): void {
    if (this.connection.state !== ConnectionState.Closing || frame.channel !== 0 || frame.type !== 1) return;
    const id = frame.method.id;
    if (id === MethodId.ConnectionCloseOk) this.endSocket();
    else if (id === MethodId.ConnectionClose) this.sendCloseOkAndEnd(); // both sides closed at once
  }

  private sendCloseOkAndEnd(): void {
    this.connection.writer.writeMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    this.connection.flush();
    this.endSocket();
  }

  /** A protocol header we do not speak: answer with ours and close (spec 4.2.2). */
  refuseProtocol(): void {
    this.connection.state = ConnectionState.Closed;
    this.socket.end(PROTOCOL_HEADER);
    this.destroyLater();
  }

  /** Half-close our side; the peer closes its side after reading what we sent. */
  endSocket(): void {
    this.connection.state = ConnectionState.Closed;
    this.clearHandshakeTimer();
    this.socket.end();
    this.destroyLater();
  }

  private destroyLater(): void {
    if (this.closeTimer !== undefined) return;
    this.closeTimer = setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** The socket is gone: no timer may fire any more. */
  stopTimers(): void {
    this.clearHandshakeTimer();
    if (this.closeTimer !== undefined) clearTimeout(this.closeTimer);
  }
}
