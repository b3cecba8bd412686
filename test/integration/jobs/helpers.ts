import { after, before } from 'node:test';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import type { ConnectionOptions } from '../../../src/jobs/index.js';
import { tempDataDir } from '../durability/helpers.js';

export interface JobsBroker {
  server: WarrenServer;
  connection: ConnectionOptions;
  amqpUrl: string;
  httpUrl: string;
  /** Stops the server and starts a new one on the same data dir and ports (a broker restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

function configFor(dir: string, amqpPort: number, httpPort: number) {
  const config = loadConfig({
    env: {},
    flags: {
      'amqp-host': '127.0.0.1',
      'amqp-port': String(amqpPort),
      'http-host': '127.0.0.1',
      'http-port': String(httpPort),
      'log-level': 'silent',
      'data-dir': dir,
    },
  });
  // Push tests call endpoints on this machine: allow plain HTTP to 127.0.0.1 (refused by default).
  config.push = { allowHttp: true, allowHosts: ['127.0.0.1'], secrets: { main: 'whsec_' + Buffer.from('test-secret-key').toString('base64') } };
  return config;
}

/** A WarrenServer (AMQP + management API, LogStore in a temp dir) for the job library's tests. */
export async function startJobsBroker(): Promise<JobsBroker> {
  const data = await tempDataDir();
  let server = new WarrenServer(configFor(data.dir, 0, 0), silentLogger());
  const { amqp, http } = await server.start();
  const amqpUrl = `amqp://guest:guest@127.0.0.1:${amqp.port}`;
  const httpUrl = `http://127.0.0.1:${http.port}`;
  const broker: JobsBroker = {
    server,
    amqpUrl,
    httpUrl,
    connection: { url: amqpUrl, managementUrl: httpUrl, reconnectDelayMs: 50 },
    async restart() {
      await server.stop();
      server = new WarrenServer(configFor(data.dir, amqp.port, http.port), silentLogger());
      await server.start();
      broker.server = server;
    },
    async close() {
      await server.stop();
      await data.cleanup();
    },
  };
  return broker;
}

export async function api(broker: JobsBroker, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${broker.httpUrl}${path}`, {
    method,
    headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? undefined : JSON.parse(text) };
}

const tracked = new Set<{ close(force?: boolean): Promise<void> }>();

/** Remembers a Queue, Worker or QueueEvents so that closeTracked() closes it even when a test failed midway. */
export function track<T extends { close(force?: boolean): Promise<void> }>(object: T): T {
  tracked.add(object);
  return object;
}

/** Closes what the tests opened (workers forced), so a failed test does not keep the process reconnecting. */
export async function closeTracked(): Promise<void> {
  const objects = [...tracked];
  tracked.clear();
  await Promise.all(objects.map((o) => o.close(true).catch(() => undefined)));
}

/**
 * For a test file (call it at the top level): a jobs broker started in before(), handed to `use`, and
 * closed in after() together with every object the file tracked.
 */
export function jobsBrokerForFile(use: (broker: JobsBroker) => void): void {
  let broker: JobsBroker | undefined;
  before(async () => {
    broker = await startJobsBroker();
    use(broker);
  });
  after(async () => {
    await closeTracked();
    await broker?.close();
  });
}
