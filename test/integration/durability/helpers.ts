import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import type { WarrenConfig } from '../../../src/index.js';
import type { WarrenServerOptions } from '../../../src/server.js';

/** A temp data dir, removed by `cleanup`. */
export async function tempDataDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-durable-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function durableConfig(dataDir: string, flags: Record<string, string> = {}): WarrenConfig {
  return loadConfig({
    env: {},
    flags: {
      'amqp-host': '127.0.0.1',
      'amqp-port': '0',
      'http-host': '127.0.0.1',
      'http-port': '0',
      'log-level': 'silent',
      'data-dir': dataDir,
      ...flags,
    },
  });
}

export interface RunningServer {
  server: WarrenServer;
  url: string;
}

/** Starts a WarrenServer on `dataDir` (a LogStore there, locked while it runs). */
export async function startServer(
  dataDir: string,
  flags: Record<string, string> = {},
  options: WarrenServerOptions = {},
  configure?: (config: WarrenConfig) => void,
): Promise<RunningServer> {
  const config = durableConfig(dataDir, flags);
  configure?.(config);
  const server = new WarrenServer(config, silentLogger(), options);
  const { amqp } = await server.start();
  return { server, url: `amqp://guest:guest@127.0.0.1:${amqp.port}` };
}
