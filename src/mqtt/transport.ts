/** What a connection writes to and reads from: a TCP/TLS socket or a WebSocket carrying binary frames. */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import { BatchedOutput } from './batched-output.js';

export interface MqttTransport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly tls: boolean;
  readonly kind: 'tcp' | 'websocket';
  /** Bytes queued but not yet written (back-pressure), gathered ones included. */
  readonly writableLength: number;
  /** Gathered and written once per event-loop turn (batched-output.ts). */
  write(bytes: Buffer): void;
  /** The same gathering, for packets encoded straight into it (reserve / commit). */
  readonly output: BatchedOutput;
  /** Graceful close after what was written (gathered bytes go first). */
  end(): void;
  destroy(): void;
  pause(): void;
  resume(): void;
  /** Wires the events: bytes, writable again, closed (exactly once). */
  start(handlers: { data(chunk: Buffer): void; drain(): void; closed(): void }): void;
}

export function socketTransport(socket: Socket): MqttTransport {
  socket.setNoDelay(true);
  let onDrain: () => void = () => undefined;
  const output = new BatchedOutput((bytes) => {
    if (socket.destroyed || !socket.writable) return;
    socket.write(bytes);
    // The kernel may take a big write whole, and then no 'drain' follows the back-pressure the
    // gathered bytes caused (writableLength counted them): announce the room here.
    if (bytes.length >= 64 * 1024 && socket.writableLength < 64 * 1024) onDrain();
  });
  return {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    tls: socket instanceof TLSSocket,
    kind: 'tcp',
    output,
    get writableLength() {
      return socket.writableLength + output.pending;
    },
    write: (bytes) => output.write(bytes),
    end: () => {
      output.flush();
      socket.end();
    },
    destroy: () => {
      output.discard();
      socket.destroy();
    },
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    start(handlers) {
      onDrain = handlers.drain;
      socket.on('data', handlers.data);
      socket.on('drain', handlers.drain);
      socket.on('error', () => undefined); // 'close' follows
      socket.once('close', handlers.closed);
    },
  };
}

/** MQTT over WebSocket (MQTT 5.0 6.0): binary messages carry the byte stream; packets may span messages. */
export function webSocketTransport(ws: WebSocket, remoteAddress: string, remotePort: number, tls: boolean): MqttTransport {
  // 6.0: one WebSocket message may carry several MQTT packets, so a turn's packets go as one message.
  const output = new BatchedOutput((bytes) => {
    if (ws.readyState === ws.OPEN) ws.send(bytes, { binary: true });
  });
  return {
    remoteAddress,
    remotePort,
    tls,
    kind: 'websocket',
    output,
    get writableLength() {
      return ws.bufferedAmount + output.pending;
    },
    write: (bytes) => output.write(bytes),
    end: () => {
      output.flush();
      ws.close(1000);
    },
    destroy: () => {
      output.discard();
      ws.terminate();
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    start(handlers) {
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        // 6.0: text frames are not MQTT; the connection closes.
        if (!isBinary) return void ws.close(1003, 'MQTT needs binary frames');
        handlers.data(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
      });
      ws.on('error', () => undefined);
      // ws has no drain event; the socket beneath it has.
      const raw = (ws as unknown as { _socket?: Socket })._socket;
      raw?.on('drain', handlers.drain);
      ws.once('close', handlers.closed);
    },
  };
}
