import type { Socket } from 'node:net';

/**
 * What a STOMP connection needs from its byte stream, so one connection class serves TCP, TLS and
 * WebSocket (where each binary or text message carries frames) alike.
 */
export interface StompTransport {
  readonly peerHost: string;
  readonly peerPort: number;
  readonly tls: boolean;
  /** 'tcp' or 'websocket', for logs. */
  readonly kind: string;
  /** Queues bytes; false once the transport's buffer is above its high-water mark. */
  write(data: Buffer): boolean;
  /** Whether more may be written now without growing the buffer past its high-water mark. */
  writable(): boolean;
  pauseInput(): void;
  resumeInput(): void;
  /** Flushes what was written, then closes. */
  end(): void;
  destroy(): void;
  onData(listener: (chunk: Buffer) => void): void;
  onDrain(listener: () => void): void;
  onClose(listener: () => void): void;
}

/** A TCP or TLS socket as a transport. */
export class SocketTransport implements StompTransport {
  readonly peerHost: string;
  readonly peerPort: number;
  readonly kind = 'tcp';

  constructor(
    private readonly socket: Socket,
    readonly tls: boolean,
    private readonly highWaterMark: number,
  ) {
    this.peerHost = normaliseHost(socket.remoteAddress ?? '');
    this.peerPort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
  }

  write(data: Buffer): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write(data);
    return this.writable();
  }

  writable(): boolean {
    return !this.socket.destroyed && this.socket.writableLength < this.highWaterMark;
  }

  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.socket.on('data', listener);
  }

  onDrain(listener: () => void): void {
    this.socket.on('drain', listener);
  }

  onClose(listener: () => void): void {
    this.socket.once('close', listener);
  }
}

/** '::ffff:127.0.0.1' is shown (and checked for loopback) as 127.0.0.1. */
export function normaliseHost(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
