/**
 * A TCP proxy for MQTT that can swallow chosen packets in either direction (by packet type), and whose
 * target port can change: a client keeps one address while the broker behind it restarts on a new
 * port. Used to freeze a real client's QoS 2 handshake half-way.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface FilteringProxy {
  readonly port: number;
  target: number;
  /** Packet types (the fixed header's high nibble) dropped client -> broker and broker -> client. */
  readonly dropUp: Set<number>;
  readonly dropDown: Set<number>;
  /** How many packets were dropped so far. */
  dropped(): number;
  close(): Promise<void>;
}

/** Splits a byte stream into whole MQTT packets and forwards those not dropped. */
function packetFilter(drop: Set<number>, onDrop: () => void, forward: (bytes: Buffer) => void): (chunk: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      let length = 0;
      let i = 1;
      let complete = false;
      for (let mult = 1; i < pending.length && i < 5; i++, mult *= 128) {
        length += (pending[i]! & 0x7f) * mult;
        if ((pending[i]! & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || pending.length < i + length) return;
      const packet = pending.subarray(0, i + length);
      pending = pending.subarray(i + length);
      if (drop.has(packet[0]! >> 4)) onDrop();
      else forward(Buffer.from(packet));
    }
  };
}

export async function filteringProxy(target: number): Promise<FilteringProxy> {
  const sockets = new Set<Socket>();
  let dropped = 0;
  const state = { target, dropUp: new Set<number>(), dropDown: new Set<number>() };
  const server: Server = createServer((client) => {
    const upstream = connect(state.target, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', packetFilter(state.dropUp, () => dropped++, (b) => upstream.write(b)));
    upstream.on('data', packetFilter(state.dropDown, () => dropped++, (b) => client.write(b)));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    get target() {
      return state.target;
    },
    set target(port: number) {
      state.target = port;
    },
    dropUp: state.dropUp,
    dropDown: state.dropDown,
    dropped: () => dropped,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
