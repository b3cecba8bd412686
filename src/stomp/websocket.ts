import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { normaliseHost, type StompTransport } from './transport.js';

/** Where STOMP over WebSocket is served on the management HTTP port (RabbitMQ's Web STOMP path). */
export const STOMP_WEBSOCKET_PATH = '/ws';

/** The subprotocols STOMP clients offer (STOMP 1.2 spec's WebSocket note; stomp.js sends these). */
const SUBPROTOCOLS = ['v12.stomp', 'v11.stomp', 'v10.stomp', 'stomp'];

export interface StompAcceptor {
  accept(transport: StompTransport, localName?: string): void;
}

/**
 * Serves STOMP over WebSocket at /ws on an HTTP server: listens to its 'upgrade' event and takes only
 * that path, so other doors can serve their own paths (MQTT at /mqtt) on the same server.
 */
export function attachStompWebSocket(server: HttpServer, stomp: StompAcceptor, highWaterMark = 1024 * 1024): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => SUBPROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== STOMP_WEBSOCKET_PATH) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      const local = `${normaliseHost(request.socket.localAddress ?? '')}:${request.socket.localPort ?? 0}`;
      stomp.accept(new WebSocketTransport(ws, request, highWaterMark), `${local}${STOMP_WEBSOCKET_PATH}`);
    });
  };
  server.on('upgrade', onUpgrade);
  // Upgraded sockets are no longer the HTTP server's: close them with it so its close() can finish.
  const closeAll = (): void => {
    for (const client of wss.clients) client.terminate();
  };
  return () => {
    server.off('upgrade', onUpgrade);
    closeAll();
    wss.close();
  };
}

/** One WebSocket as a STOMP transport: every message carries frame bytes, text or binary alike. */
class WebSocketTransport implements StompTransport {
  readonly peerHost: string;
  readonly peerPort: number;
  readonly tls: boolean;
  readonly kind = 'websocket';
  private readonly drainListeners: Array<() => void> = [];

  constructor(
    private readonly ws: WebSocket,
    request: IncomingMessage,
    private readonly highWaterMark: number,
  ) {
    this.peerHost = normaliseHost(request.socket.remoteAddress ?? '');
    this.peerPort = request.socket.remotePort ?? 0;
    this.tls = 'encrypted' in request.socket;
    ws.on('error', () => ws.terminate());
  }

  write(data: Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    // Text frames when the bytes are text: browsers' STOMP clients read those most simply.
    this.ws.send(data, { binary: !isUtf8(data) }, () => {
      if (this.ws.bufferedAmount < this.highWaterMark) for (const listener of this.drainListeners) listener();
    });
    return this.writable();
  }

  writable(): boolean {
    return this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount < this.highWaterMark;
  }

  pauseInput(): void {
    this.ws.pause();
  }

  resumeInput(): void {
    this.ws.resume();
  }

  end(): void {
    this.ws.close(1000);
  }

  destroy(): void {
    this.ws.terminate();
  }

  onData(listener: (chunk: Buffer) => void): void {
    this.ws.on('message', (data: RawData) => listener(toBuffer(data)));
  }

  onDrain(listener: () => void): void {
    this.drainListeners.push(listener);
  }

  onClose(listener: () => void): void {
    this.ws.once('close', listener);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
