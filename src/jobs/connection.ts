/**
 * Where a job library object connects: an AMQP URL (BullMQ's `connection`, here a broker instead of
 * Redis) and the management API that holds job state (broker/records.ts through /api/records).
 */
export interface ConnectionOptions {
  /** amqp://user:pass@host:5672/vhost */
  url: string;
  /** http://host:15672 (default: the AMQP host on port 15672, with the AMQP URL's credentials). */
  managementUrl?: string;
  /** Delay before the first reconnect attempt; doubles up to 5 s. Default 100 ms. */
  reconnectDelayMs?: number;
}

export type Connection = string | ConnectionOptions;

export interface ResolvedConnection {
  amqpUrl: string;
  managementUrl: string;
  vhost: string;
  authorization: string;
  reconnectDelayMs: number;
}

export function resolveConnection(connection: Connection | undefined): ResolvedConnection {
  const options: ConnectionOptions = typeof connection === 'string' ? { url: connection } : (connection ?? { url: 'amqp://guest:guest@127.0.0.1:5672' });
  const amqp = new URL(options.url);
  if (amqp.protocol !== 'amqp:' && amqp.protocol !== 'amqps:') throw new TypeError(`connection must be an amqp:// or amqps:// URL, not ${amqp.protocol}`);
  const vhost = amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/';
  const management = new URL(options.managementUrl ?? `http://${amqp.hostname}:15672`);
  const user = decodeURIComponent(management.username || amqp.username || 'guest');
  const password = decodeURIComponent(management.password || amqp.password || 'guest');
  management.username = '';
  management.password = '';
  return {
    amqpUrl: options.url,
    managementUrl: management.toString().replace(/\/$/, ''),
    vhost,
    authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    reconnectDelayMs: options.reconnectDelayMs ?? 100,
  };
}
