import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger, WarrenServer } from '../../src/index.js';
import type { WarrenConfig } from '../../src/index.js';
import type { Logger } from 'pino';

export interface TestWarren {
  server: WarrenServer;
  /** amqp://guest:guest@127.0.0.1:<port> */
  url: string;
  amqpPort: number;
  httpPort: number;
  dataDir: string;
  /** A management API call over real HTTP as guest; the JSON answer (undefined for an empty body). */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops the server (the data dir stays, for a restart). */
  stop(): Promise<void>;
  /** Stops it and removes its data dir. */
  close(): Promise<void>;
}

/**
 * A whole WarrenServer (AMQP, management API, shovels and federation) on ephemeral ports of 127.0.0.1
 * with a LogStore in a temp dir (or `dataDir`, to restart on the same data).
 */
export async function startWarren(options: { dataDir?: string; amqpPort?: number; logger?: Logger; configure?: (config: WarrenConfig) => void } = {}): Promise<TestWarren> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'warren-test-')));
  const config = loadConfig({
    env: {},
    flags: { 'amqp-host': '127.0.0.1', 'amqp-port': String(options.amqpPort ?? 0), 'http-host': '127.0.0.1', 'http-port': '0', 'log-level': 'silent', 'data-dir': dataDir },
  });
  options.configure?.(config);
  const server = new WarrenServer(config, options.logger ?? silentLogger());
  const { amqp, http } = await server.start();
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`http://127.0.0.1:${http.port}${path}`, {
      method,
      headers: { authorization: auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= server.stop());
  return {
    server,
    url: `amqp://guest:guest@127.0.0.1:${amqp.port}`,
    amqpPort: amqp.port,
    httpPort: http.port,
    dataDir,
    api,
    stop,
    close: async () => {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
