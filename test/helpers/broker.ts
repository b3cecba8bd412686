import type { Logger } from 'pino';
import { UserRegistry } from '../../src/auth/users.js';
import { Broker, type BrokerOptions } from '../../src/broker/broker.js';
import { AmqpListener, type AmqpListenerOptions } from '../../src/amqp/server.js';

export interface StartBrokerOptions {
  broker?: BrokerOptions;
  /** Merged over { host: '127.0.0.1', port: 0 }. */
  listener?: Partial<AmqpListenerOptions>;
  logger?: Logger;
  /** Host name put in `url` (default 127.0.0.1; TLS tests use 'localhost' to match their certificate). */
  urlHost?: string;
}

export interface TestBroker {
  /** amqp://guest:guest@127.0.0.1:<port> (amqps:// with TLS) */
  url: string;
  port: number;
  broker: Broker;
  users: UserRegistry;
  listener: AmqpListener;
  /** Closes the listener (clients see 320) and stops the broker. Idempotent. */
  close(): Promise<void>;
}

/**
 * A broker, a user registry with guest/guest (full permissions on '/') and an AMQP listener on an
 * ephemeral port of 127.0.0.1: what every integration test starts from.
 */
export async function startBroker(options: StartBrokerOptions = {}): Promise<TestBroker> {
  const broker = new Broker({ ...options.broker, ...(options.logger ? { logger: options.logger } : {}) });
  await broker.start();
  const users = new UserRegistry();
  users.addUser('guest', 'guest', ['administrator']);
  users.setPermissions('guest', '/', { configure: '.*', write: '.*', read: '.*' });
  const listener = new AmqpListener(broker, users, { host: '127.0.0.1', port: 0, ...options.listener }, options.logger);
  let port: number;
  try {
    ({ port } = await listener.listen());
  } catch (err) {
    await broker.stop();
    throw err;
  }
  const scheme = options.listener?.tls ? 'amqps' : 'amqp';
  let closing: Promise<void> | undefined;
  return {
    url: `${scheme}://guest:guest@${options.urlHost ?? '127.0.0.1'}:${port}`,
    port,
    broker,
    users,
    listener,
    close: () => {
      closing ??= listener.close().then(() => broker.stop());
      return closing;
    },
  };
}
