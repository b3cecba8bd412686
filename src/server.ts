import { readFile } from 'node:fs/promises';
import { AmqpListener } from './amqp/server.js';
import type { AmqpListenerOptions } from './amqp/server.js';
import { UserRegistry } from './auth/users.js';
import { Broker } from './broker/broker.js';
import type { DurabilityStore } from './broker/durability.js';
import type { TlsListenerConfig, WarrenConfig } from './config/types.js';
import { HttpServer } from './http/server.js';
import { createLogger } from './log.js';
import type { Logger } from './log.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface WarrenServerOptions {
  /** Persistence for durable queues and messages. Default: in memory (nothing survives a restart). */
  store?: DurabilityStore;
}

export interface ListeningAddresses {
  amqp: ListenAddress;
  amqps?: ListenAddress;
  /** The management HTTP API. */
  http: ListenAddress;
}

/**
 * The composition root: builds the broker, the user registry and the listeners from one resolved config,
 * and starts and stops them in order. Holds no global state, so a test can run two in one process.
 */
export class WarrenServer {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  private readonly listeners: AmqpListener[] = [];
  private http: HttpServer | undefined;
  private starting: Promise<ListeningAddresses> | undefined;
  private stopping: Promise<void> | undefined;
  private tearingDown: Promise<void> | undefined;

  constructor(
    readonly config: WarrenConfig,
    logger?: Logger,
    options: WarrenServerOptions = {},
  ) {
    this.logger = logger ?? createLogger({ level: config.log.level });
    this.users = buildUserRegistry(config);
    const brokerLogger = this.logger.child({ component: 'broker' });
    this.broker = new Broker(options.store === undefined ? { logger: brokerLogger } : { logger: brokerLogger, store: options.store });
  }

  /** The AMQP listeners, once started (for the management API and for alarms). */
  get amqpListeners(): readonly AmqpListener[] {
    return this.listeners;
  }

  /** Starts the broker, then the listeners. Calling it twice returns the same addresses. */
  start(): Promise<ListeningAddresses> {
    if (this.stopping !== undefined) return Promise.reject(new Error('WarrenServer was stopped; create a new one'));
    this.starting ??= this.startAll();
    return this.starting;
  }

  /**
   * Closes the listeners (clients get connection.close 320 CONNECTION_FORCED), then the broker.
   * Idempotent; safe to call before start or after a failed start.
   */
  stop(reason = 'shutdown'): Promise<void> {
    this.stopping ??= this.stopAll(reason);
    return this.stopping;
  }

  private async startAll(): Promise<ListeningAddresses> {
    try {
      await this.broker.start();
      for (const vhost of this.config.vhosts) this.broker.addVhost(vhost.name);
      const amqp = await this.listen({ host: this.config.amqp.host, port: this.config.amqp.port }, 'AMQP');
      const tls = this.config.amqps;
      const amqps = tls === undefined ? undefined : await this.listen({ host: tls.host, port: tls.port, tls: await readTlsFiles(tls) }, 'AMQPS');
      const http = await this.listenHttp();
      return amqps === undefined ? { amqp, http } : { amqp, amqps, http };
    } catch (error) {
      await this.tearDown('startup failed');
      throw error;
    }
  }

  private async listen(options: Omit<AmqpListenerOptions, 'limits'>, label: string): Promise<ListenAddress> {
    const listener = new AmqpListener(
      this.broker,
      this.users,
      { ...options, limits: { ...this.config.limits } },
      this.logger.child({ component: label.toLowerCase() }),
    );
    this.listeners.push(listener);
    const address = await listener.listen();
    // Tests and scripts parse this line to learn the port when it was 0.
    this.logger.info({ protocol: label.toLowerCase(), host: address.host, port: address.port }, `${label} listening on ${address.host}:${address.port}`);
    return address;
  }

  private async listenHttp(): Promise<ListenAddress> {
    this.http = new HttpServer(
      { broker: this.broker, users: this.users, connections: () => this.listeners.flatMap((listener) => [...listener.connections]) },
      { host: this.config.http.host, port: this.config.http.port, dataDir: this.config.dataDir },
      this.logger.child({ component: 'http' }),
    );
    const address = await this.http.listen();
    this.logger.info({ protocol: 'http', host: address.host, port: address.port }, `HTTP listening on ${address.host}:${address.port}`);
    return address;
  }

  /** Lets a start in progress finish first, so nothing it opens is left behind. */
  private async stopAll(reason: string): Promise<void> {
    if (this.starting === undefined) return; // never started: nothing is open
    await this.starting.catch(() => undefined);
    await this.tearDown(reason);
  }

  private tearDown(reason: string): Promise<void> {
    this.tearingDown ??= (async () => {
      await this.http?.close();
      await Promise.all(this.listeners.map((listener) => listener.close(reason)));
      await this.broker.stop();
      this.logger.info({ reason }, 'Warren stopped');
    })();
    return this.tearingDown;
  }
}

/** Users, their permissions and the loopback rule from the config. */
export function buildUserRegistry(config: Pick<WarrenConfig, 'users' | 'permissions' | 'loopbackUsers'>): UserRegistry {
  const registry = new UserRegistry({ loopbackUsers: config.loopbackUsers });
  for (const user of config.users) {
    if (user.passwordHash !== undefined) registry.addUserWithHash(user.name, user.passwordHash, user.tags);
    else registry.addUser(user.name, user.password ?? '', user.tags);
  }
  for (const grant of config.permissions) registry.setPermissions(grant.user, grant.vhost, grant);
  return registry;
}

async function readTlsFiles(tls: TlsListenerConfig): Promise<NonNullable<AmqpListenerOptions['tls']>> {
  const [cert, key, ca] = await Promise.all([
    readPem(tls.cert, 'amqps.cert'),
    readPem(tls.key, 'amqps.key'),
    tls.ca === undefined ? undefined : readPem(tls.ca, 'amqps.ca'),
  ]);
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
