import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { HttpServer } from '../../../src/http/server.js';

export interface ManagedBroker extends TestBroker {
  http: HttpServer;
  /** An authenticated request (guest/guest unless `auth` is given) through fastify's inject, no port. */
  api(method: InjectOptions['method'], url: string, body?: unknown, auth?: [string, string]): Promise<LightMyRequestResponse>;
  /** Same as `api`, parsing the JSON answer. */
  json<T = any>(method: InjectOptions['method'], url: string, body?: unknown, auth?: [string, string]): Promise<T>;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/**
 * A broker with an AMQP listener (guest/guest administrator) and the management API on top, not
 * listening unless `listen` is set (inject needs no port). `close()` stops everything.
 */
export async function startManaged(options: { listen?: boolean; sampleIntervalMs?: number } = {}): Promise<ManagedBroker & { httpPort: number }> {
  const base = await startBroker();
  const http = new HttpServer(
    { broker: base.broker, users: base.users, connections: () => base.listener.amqpConnections },
    { host: '127.0.0.1', port: 0, sampleIntervalMs: options.sampleIntervalMs ?? 60_000 },
  );
  let httpPort = 0;
  if (options.listen === true) httpPort = (await http.listen()).port;
  const api = (method: InjectOptions['method'], url: string, body?: unknown, auth: [string, string] = ['guest', 'guest']) =>
    http.app.inject({
      method,
      url,
      headers: { authorization: basic(...auth), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return {
    ...base,
    http,
    httpPort,
    api,
    json: async (method, url, body, auth) => {
      const response = await api(method, url, body, auth);
      if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
      return response.json();
    },
    close: async () => {
      await http.close();
      await base.close();
    },
  };
}
