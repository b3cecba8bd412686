import { createServer, connect, type Socket, type Server } from 'node:net';
import { sleep } from './wait.js';

export interface TestProxy {
  port: number;
  /** Bytes sent from clients towards the target so far. */
  bytes: () => number;
  /** Drops every connection and refuses new ones for `ms` (the link cut, the destination's port closed). */
  cut: (ms: number) => Promise<void>;
  close: () => Promise<void>;
}

/** A TCP proxy on an ephemeral port of 127.0.0.1 to `targetPort` that can cut the link for a while. */
export async function proxy(targetPort: number): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  let bytes = 0;
  let refusing = false;
  const server: Server = createServer((client) => {
    if (refusing) return void client.destroy();
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => (bytes += chunk.length));
    client.pipe(upstream).pipe(client);
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
    bytes: () => bytes,
    cut: async (ms) => {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      await sleep(ms);
      refusing = false;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
