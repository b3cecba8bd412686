import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type IFrame, type IMessage, type StompHeaders } from '@stomp/stompjs';
import WebSocket from 'ws';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import type { ListeningAddresses } from '../../../src/server.js';

export interface StompServer {
  server: WarrenServer;
  addresses: ListeningAddresses;
  stompPort: number;
  httpPort: number;
  amqpUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

/** A WarrenServer with STOMP on an ephemeral port and a LogStore in a temp dir. */
export async function startStompServer(dataDir?: string, flags: Record<string, string> = {}): Promise<StompServer> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'warren-stomp-')));
  const config = loadConfig({
    env: {},
    flags: { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'stomp-port': '0', 'log-level': 'silent', 'data-dir': dir, ...flags },
  });
  const server = new WarrenServer(config, silentLogger());
  const addresses = await server.start();
  const stompPort = addresses.stomp?.port ?? 0;
  return {
    server,
    addresses,
    stompPort,
    httpPort: addresses.http.port,
    amqpUrl: `amqp://guest:guest@127.0.0.1:${addresses.amqp.port}`,
    wsUrl: `ws://127.0.0.1:${addresses.http.port}/ws`,
    close: async () => {
      await server.stop();
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A connected @stomp/stompjs client over the WebSocket endpoint. */
export async function stompjsClient(wsUrl: string, connectHeaders: StompHeaders = { login: 'guest', passcode: 'guest', host: '/' }): Promise<Client> {
  const client = new Client({
    webSocketFactory: () => new WebSocket(wsUrl, ['v12.stomp', 'v11.stomp', 'v10.stomp']),
    connectHeaders,
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve();
    client.onStompError = (frame: IFrame) => reject(new Error(`${frame.headers['message'] ?? ''}: ${frame.body}`));
    client.onWebSocketError = () => reject(new Error('websocket error'));
    client.activate();
  });
  return client;
}

/** Collects MESSAGE frames of one subscription; `next()` waits for the next. */
export class Inbox {
  readonly messages: IMessage[] = [];
  private waiters: Array<(m: IMessage) => void> = [];

  readonly push = (message: IMessage): void => {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(message);
    else this.messages.push(message);
  };

  next(timeoutMs = 5000): Promise<IMessage> {
    const ready = this.messages.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no message within timeout')), timeoutMs);
      this.waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }
}

/** The first ERROR frame the client gets. */
export function nextStompError(client: Client): Promise<IFrame> {
  return new Promise((resolve) => {
    client.onStompError = resolve;
  });
}
