import { readFile } from 'node:fs/promises';
import { PushService } from './push/index.js';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import { hostname } from 'node:os';
import { AmqpListener } from './amqp/server.js';
import { StompListener, type StompListenerOptions } from './stomp/server.js';
import { attachStompWebSocket } from './stomp/websocket.js';
import { clusterBrokerHooks } from './cluster/broker-hooks.js';
import { ClusterNode } from './cluster/cluster-node.js';
import type { ListenAddress, Listener } from './session/views.js';
import type { AmqpListenerOptions } from './amqp/server.js';
import { UserRegistry } from './auth/users.js';
import { decodeProperties, encodeProperties } from './amqp/codec/properties.js';
import { Broker } from './broker/broker.js';
import { AMQP_PROPERTIES_CODEC_ID, type PropertiesCodec } from './broker/persistence/message-header.js';
import type { TlsListenerConfig, WarrenConfig } from './config/types.js';
import { DiskAlarm } from './alarms/disk-alarm.js';
import { MemoryAlarm, memoryLimitBytes } from './alarms/memory-alarm.js';
import { ResourceAlarms } from './alarms/resource-alarms.js';
import { restoreUsers, UserJournal } from './auth/user-journal.js';
import { LogStore } from './store/log-store.js';
import type { Store, SyncPolicy } from './store/store.js';
import { HttpServer } from './http/server.js';
import type { AlarmStatus } from './http/context.js';
import type { LinksView, ListenerInfo } from './http/context.js';
import { ShovelManager } from './shovel/manager.js';
import { FederationManager } from './federation/manager.js';
import { dashboardIfInstalled } from './http/dashboard/plugin.js';
import { createLogger } from './log.js';
import { SqsListener } from './sqs/server.js';
import { registerSqsKeyRoutes } from './sqs/management.js';
import { startMqtt } from './mqtt/start.js';
import { startKafka, type StartedKafka } from './kafka/start.js';
import type { Logger } from './log.js';

export type { ListenAddress } from './session/views.js';

export interface WarrenServerOptions {
  /**
   * Persistence for definitions and messages. Default: a LogStore in config.dataDir (locked while the
   * server runs). Pass `new MemoryStore()` for a server that keeps nothing (in-process tests).
   */
  store?: Store;
  /** Disk alarm poll interval (default 2000 ms). */
  diskCheckIntervalMs?: number;
  /** Where the memory alarm reads used memory (default: process RSS); tests inject one. */
  memoryUsedBytes?: () => number;
  /**
   * The message store failed: nothing can be made durable any more. Default: the server stops (clients
   * see connection.close); pending confirms are never sent. The CLI also exits with status 1.
   */
  onStoreFailure?: (error: Error) => void;
  /** Cluster mode: this node was fenced and has stopped; the caller starts a new server (a new incarnation). */
  onFenced?: (reason: Error) => void;
}


/** Stored messages keep their AMQP content-header property bytes: no re-encoding per message. */
const AMQP_PROPERTIES: PropertiesCodec = {
  id: AMQP_PROPERTIES_CODEC_ID,
  acceptsWireBytes: true,
  encode: encodeProperties,
  decode: decodeProperties,
};

function syncPolicy(config: WarrenConfig): SyncPolicy {
  return config.store.sync === 'periodic' ? { mode: 'periodic', intervalMs: config.store.syncIntervalMs } : { mode: 'always' };
}

export interface ListeningAddresses {
  amqp: ListenAddress;
  amqps?: ListenAddress;
  /** The management HTTP API. */
  http: ListenAddress;
  /** The SQS door, when config.sqs turns it on. */
  sqs?: ListenAddress;
  /** STOMP over TCP, when config.stomp turns it on. */
  stomp?: ListenAddress;
  /** STOMP over TLS (config.stomp.tlsPort). */
  stompTls?: ListenAddress;
  /** The Kafka door, when config.kafka turns it on. */
  kafka?: ListenAddress;
}

/**
 * The composition root: builds the broker, the user registry and the listeners from one resolved config,
 * and starts and stops them in order. Holds no global state, so a test can run two in one process.
 */
export class WarrenServer {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  readonly store: Store;
  readonly diskAlarm: DiskAlarm;
  readonly memoryAlarm: MemoryAlarm;
  /** Raised alarms block publishers on every listener until all have cleared. */
  readonly alarms: ResourceAlarms;
  /** Cluster mode (config.cluster); undefined for a single broker. */
  readonly cluster: ClusterNode | undefined;
  /** Every front door's listener; alarms, shutdown and the management API go through these. */
  private readonly listeners: Listener[] = [];
  private push: PushService | undefined;
  private http: HttpServer | undefined;
  /** Shovels (src/shovel): dynamic ones from runtime parameters, static ones from the config. */
  readonly shovels: ShovelManager;
  /** Federation (src/federation): upstream parameters and the links policies ask for. */
  readonly federation: FederationManager;
  /** Doors served over WebSocket on the HTTP server: closed before it (upgraded sockets are not its own). */
  private readonly detachWebSockets: Array<() => void> = [];
  /** Front doors' addresses, listed by /api/overview next to the HTTP one. */
  private readonly addresses: ListenerInfo[] = [];
  private starting: Promise<ListeningAddresses> | undefined;
  /** The SQS door (config.sqs), once started: its access keys are managed through it. */
  sqs: SqsListener | undefined;
  /** The Kafka door (config.kafka), once started. */
  kafka: StartedKafka | undefined;
  private linkServer: Server | undefined;
  private readonly onFenced: ((reason: Error) => void) | undefined;
  private stopping: Promise<void> | undefined;
  private tearingDown: Promise<void> | undefined;

  constructor(
    readonly config: WarrenConfig,
    logger?: Logger,
    options: WarrenServerOptions = {},
  ) {
    this.logger = logger ?? createLogger({ level: config.log.level });
    this.onFenced = options.onFenced;
    // Filled at start: from the data dir, then the config's users that were never seeded there.
    this.users = new UserRegistry({ loopbackUsers: config.loopbackUsers });
    this.store = options.store ?? new LogStore({ dataDir: config.dataDir, sync: syncPolicy(config) });
    const onStoreFailure = options.onStoreFailure ?? ((): void => void this.stop('message store failed'));
    this.cluster =
      config.cluster === undefined
        ? undefined
        : new ClusterNode(config.cluster, config.dataDir, this.logger.child({ component: 'cluster' }), {
            fenced: (reason) => void this.fenced(reason),
            databaseAlarm: (raised) => this.alarms.set('database', raised),
          });
    const cluster = this.cluster === undefined ? undefined : clusterBrokerHooks(this.cluster, () => this.broker.messageHeaders, config.store.queueMemoryBytes);
    this.broker = new Broker({
      ...(cluster === undefined ? {} : { cluster }),
      logger: this.logger.child({ component: 'broker' }),
      store: this.store,
      onStoreFailure,
      propertiesCodec: AMQP_PROPERTIES,
      queueMemoryBytes: config.store.queueMemoryBytes,
      limits: { consumerTimeoutMs: config.limits.consumerTimeoutMs },
    });
    this.shovels = new ShovelManager(this.broker, {
      nodeName: this.nodeName,
      logger: this.logger.child({ component: 'shovel' }),
      statics: config.shovels,
    });
    this.federation = new FederationManager(this.broker, { nodeName: this.nodeName, logger: this.logger.child({ component: 'federation' }) });
    this.alarms = new ResourceAlarms((reason) => {
      for (const listener of this.listeners) listener.setBlocked(reason);
    });
    this.memoryAlarm = new MemoryAlarm({
      limitBytes: memoryLimitBytes(config.limits.memoryHighWatermark),
      onChange: (alarmed, used) => this.memoryAlarmChanged(alarmed, used),
      ...(options.memoryUsedBytes === undefined ? {} : { usedBytes: options.memoryUsedBytes }),
    });
    // A store not on a local disk has no free space to watch: the alarm never rises.
    const freeBytes = this.store.freeBytes?.bind(this.store) ?? (async () => Number.MAX_SAFE_INTEGER);
    this.diskAlarm = new DiskAlarm({ freeBytes }, {
      limitBytes: config.store.diskFreeLimitBytes,
      ...(options.diskCheckIntervalMs === undefined ? {} : { intervalMs: options.diskCheckIntervalMs }),
      onChange: (alarmed, free) => this.diskAlarmChanged(alarmed, free),
      onError: (error) => this.logger.warn({ err: error }, 'cannot read free disk space'),
    });
  }

  /** The front doors' listeners, once started. */
  get doorListeners(): readonly Listener[] {
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
      const cluster = this.cluster;
      await cluster?.join();
      const recovered = await this.broker.start();
      for (const vhost of this.config.vhosts) this.broker.addVhost(vhost.name);
      const definitions = cluster?.definitions ?? this.store;
      restoreUsers(this.users, cluster?.definitions.loaded ?? recovered.definitions, this.config, definitions);
      if (cluster !== undefined || this.store.persistent) this.users.observe(new UserJournal(definitions));
      await this.diskAlarm.start();
      this.memoryAlarm.start();
      const shared = cluster !== undefined && cluster.config.linkPort === undefined ? { sharedWith: cluster.linkAcceptor } : {};
      const amqp = await this.listen(this.amqpListener({ host: this.config.amqp.host, port: this.config.amqp.port, ...shared }, 'amqp'), 'AMQP');
      const tls = this.config.amqps;
      const amqps = tls === undefined ? undefined : await this.listen(this.amqpListener({ host: tls.host, port: tls.port, tls: await readTlsFiles(tls) }, 'amqps'), 'AMQPS');
      const sqs = this.config.sqs === undefined ? undefined : await this.listen(await this.sqsListener(this.config.sqs), 'SQS');
      const http = await this.listenHttp();
      this.shovels.start();
      this.federation.start();
      const stomp = await this.startStomp();
      const stompTls = await this.startStompTls();
      // Push queues: the broker consumes queues declared with x-push-endpoint (src/push).
      this.push = new PushService(this.broker, this.config.push, this.logger.child({ component: 'push' }));
      this.push.start();
      if (this.config.mqtt !== undefined) await startMqtt(this.config.mqtt, this.http!.app.server, { broker: this.broker, users: this.users, logger: this.logger, listen: (l, label) => this.listen(l, label), readTls: readTlsFiles });
      if (this.config.kafka !== undefined) this.kafka = await startKafka(this.config.kafka, { broker: this.broker, users: this.users, logger: this.logger, listen: (l, label) => this.listen(l, label) });
      if (cluster !== undefined) {
        const linkPort = cluster.config.linkPort === undefined ? amqp.port : await this.listenForLinks(cluster);
        cluster.connectionCount = () => this.listeners.reduce((n, listener) => n + [...listener.connections()].length, 0);
        await cluster.attach(this.broker, this.users, this.broker.messageHeaders, { amqpPort: amqp.port, httpPort: http.port, linkPort });
      }
      return { amqp, ...(amqps === undefined ? {} : { amqps }), http, ...(sqs === undefined ? {} : { sqs }), ...(stomp === undefined ? {} : { stomp }), ...(stompTls === undefined ? {} : { stompTls }), ...(this.kafka === undefined ? {} : { kafka: this.kafka.address }) };
    } catch (error) {
      await this.tearDown('startup failed');
      throw error;
    }
  }

  /** STOMP on its port and over WebSocket at /ws on the HTTP port (config.stomp). */
  private async startStomp(): Promise<ListenAddress | undefined> {
    const stomp = this.config.stomp;
    if (stomp === undefined) return undefined;
    const listener = this.stompListener({ host: stomp.host, port: stomp.port }, 'stomp');
    const address = await this.listen(listener, 'STOMP');
    if (this.http !== undefined) this.detachWebSockets.push(attachStompWebSocket(this.http.app.server, listener));
    return address;
  }

  /** STOMP over TLS uses the AMQPS certificate, as RabbitMQ's STOMP TLS listener uses the broker's ssl_options. */
  private async startStompTls(): Promise<ListenAddress | undefined> {
    const port = this.config.stomp?.tlsPort;
    if (port === undefined) return undefined;
    const amqps = this.config.amqps;
    if (amqps === undefined) throw new Error('stomp.tlsPort needs the amqps certificate and key (amqps.cert, amqps.key)');
    const listener = this.stompListener({ host: this.config.stomp?.host ?? amqps.host, port, tls: await readTlsFiles(amqps) }, 'stomp-tls');
    return this.listen(listener, 'STOMP/TLS');
  }

  private stompListener(options: Omit<StompListenerOptions, 'settings'>, component: string): StompListener {
    const { maxConnections, maxMessageBytes } = this.config.limits;
    const settings = { maxConnections, parserLimits: { maxHeaderBytes: 64 * 1024, maxHeaders: 1000, maxBodyBytes: maxMessageBytes } };
    return new StompListener(this.broker, this.users, { ...options, settings }, this.logger.child({ component }));
  }

  /** Node links on a port of their own (cluster.linkPort). */
  private async listenForLinks(cluster: ClusterNode): Promise<number> {
    const server = createTcpServer((socket) => cluster.linkAcceptor.accept(socket));
    this.linkServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(cluster.config.linkPort, this.config.amqp.host, () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    this.logger.info({ protocol: 'cluster-link', port }, `node links listening on ${this.config.amqp.host}:${port}`);
    return port;
  }

  /**
   * This node was declared dead while it ran (paused past its lease, cut off from the database): its
   * clients go, and the process owner (the CLI) starts it again as a new incarnation.
   */
  private async fenced(reason: Error): Promise<void> {
    // While everything closes nothing else may keep the process alive: this does, until the owner restarts it.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await this.stop(`fenced: ${reason.message}`).catch((error: unknown) => this.logger.error({ err: error }, 'stopping after a fence failed'));
      this.onFenced?.(reason);
    } finally {
      clearInterval(keepAlive);
    }
  }

  private amqpListener(options: Omit<AmqpListenerOptions, 'limits'>, component: string): AmqpListener {
    return new AmqpListener(this.broker, this.users, { ...options, limits: amqpLimits(this.config) }, this.logger.child({ component }));
  }

  private async sqsListener(config: NonNullable<WarrenConfig['sqs']>): Promise<SqsListener> {
    const tls = config.cert === undefined || config.key === undefined ? undefined : { cert: await readPem(config.cert, 'sqs.cert'), key: await readPem(config.key, 'sqs.key') };
    this.sqs = new SqsListener(
      this.broker,
      this.users,
      {
        host: config.host,
        port: config.port,
        region: config.region,
        accounts: new Map(config.accounts.map((a) => [a.account, a.vhost])),
        dataDir: this.config.dataDir,
        accessKeys: config.accessKeys,
        ...(tls === undefined ? {} : { tls }),
      },
      this.logger.child({ component: 'sqs' }),
    );
    return this.sqs;
  }

  /** Starts one front door's listener: it joins the alarms, the shutdown and the management API. */
  private async listen(listener: Listener, label: string): Promise<ListenAddress> {
    this.listeners.push(listener);
    listener.setBlocked(this.alarms.blockedReason());
    const address = await listener.listen();
    this.addresses.push({ protocol: listener.protocol, host: address.host, port: address.port });
    // Tests and scripts parse this line to learn the port when it was 0.
    this.logger.info({ protocol: label.toLowerCase(), host: address.host, port: address.port }, `${label} listening on ${address.host}:${address.port}`);
    return address;
  }

  private async listenHttp(): Promise<ListenAddress> {
    this.http = new HttpServer(
      {
        broker: this.broker,
        users: this.users,
        connections: () => this.listeners.flatMap((listener) => [...listener.connections()]),
        alarms: () => this.alarmStatus(),
        pushStates: () => this.push?.states() ?? [],
      },
      {
        host: this.config.http.host,
        port: this.config.http.port,
        dataDir: this.config.dataDir,
        dashboard: this.dashboard(),
        listeners: () => this.addresses,
        extraRoutes: [(app) => registerSqsKeyRoutes(app, () => this.sqs)],
        links: this.links(),
        nodeName: this.nodeName,
        ...(this.cluster === undefined ? {} : { cluster: this.cluster }),
      },
      this.logger.child({ component: 'http' }),
    );
    const address = await this.http.listen();
    this.logger.info({ protocol: 'http', host: address.host, port: address.port }, `HTTP listening on ${address.host}:${address.port}`);
    return address;
  }

  /** RabbitMQ-style node name: the cluster's, else warren@<host> (the management API's default). */
  get nodeName(): string {
    return this.cluster?.nodeName ?? `warren@${hostname()}`;
  }

  /** What /api/shovels, /api/federation-links and /metrics read. */
  private links(): LinksView {
    return {
      shovels: () => this.shovels.status(),
      restartShovel: (vhost, name) => this.shovels.restart(vhost, name),
      federationLinks: () => this.federation.status(),
    };
  }

  private dashboard(): ReturnType<typeof dashboardIfInstalled> {
    return dashboardIfInstalled((error) => this.logger.warn({ err: error }, 'web dashboard not served'));
  }

  /** Lets a start in progress finish first, so nothing it opens is left behind. */
  private async stopAll(reason: string): Promise<void> {
    if (this.starting === undefined) return; // never started: nothing is open
    await this.starting.catch(() => undefined);
    await this.tearDown(reason);
  }

  private tearDown(reason: string): Promise<void> {
    this.tearingDown ??= (async () => {
      for (const detach of this.detachWebSockets) detach();
      await this.http?.close();
      await this.shovels.stop();
      await this.federation.stop();
      this.push?.stop();
      // Leaving the cluster asks the database; one that does not answer must not hold the shutdown.
      await raceTimeout(this.cluster?.stop(), 5000);
      this.linkServer?.close();
      this.diskAlarm.stop();
      this.memoryAlarm.stop();
      await Promise.all(this.listeners.map((listener) => listener.close(reason)));
      await this.kafka?.door.close();
      this.users.observe(undefined);
      await this.broker.stop();
      this.logger.info({ reason }, 'Warren stopped');
    })();
    return this.tearingDown;
  }

  private diskAlarmChanged(alarmed: boolean, free: number): void {
    const limit = this.config.store.diskFreeLimitBytes;
    if (alarmed) this.logger.warn({ free, limit }, `disk alarm: ${free} bytes free on ${this.config.dataDir}, limit ${limit}; publishers blocked`);
    else this.logger.info({ free, limit }, `disk alarm cleared: ${free} bytes free`);
    this.alarms.set('disk', alarmed);
  }

  private memoryAlarmChanged(alarmed: boolean, used: number): void {
    const limit = this.memoryAlarm.limitBytes;
    if (alarmed) this.logger.warn({ used, limit }, `memory alarm: ${used} bytes used, high watermark ${limit}; publishers blocked`);
    else this.logger.info({ used, limit }, `memory alarm cleared: ${used} bytes used`);
    this.alarms.set('memory', alarmed);
  }

  /** Alarm state for the management API and metrics. */
  alarmStatus(): AlarmStatus {
    return {
      memoryAlarm: this.memoryAlarm.active,
      memoryUsedBytes: this.memoryAlarm.lastUsedBytes,
      memoryLimitBytes: this.memoryAlarm.limitBytes,
      diskAlarm: this.diskAlarm.active,
      diskFreeLimitBytes: this.config.store.diskFreeLimitBytes,
      databaseAlarm: this.alarms.isRaised('database'),
    };
  }
}

function amqpLimits(config: WarrenConfig): AmqpListenerOptions['limits'] {
  const { maxConnections, channelMax, frameMax, heartbeatSeconds, maxMessageBytes } = config.limits;
  return { maxConnections, channelMax, frameMax, heartbeatSeconds, maxMessageBytes };
}

function raceTimeout(work: Promise<void> | undefined, ms: number): Promise<void> {
  if (work === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void work.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Users, their permissions and the loopback rule from the config (without a data dir). */
export function buildUserRegistry(config: Pick<WarrenConfig, 'users' | 'permissions' | 'loopbackUsers'>): UserRegistry {
  const registry = new UserRegistry({ loopbackUsers: config.loopbackUsers });
  for (const user of config.users) {
    if (user.passwordHash !== undefined) registry.addUserWithHash(user.name, user.passwordHash, user.tags);
    else registry.addUser(user.name, user.password ?? '', user.tags);
  }
  for (const grant of config.permissions) registry.setPermissions(grant.user, grant.vhost, grant);
  return registry;
}

/**
 * One file after the other (cert, key, ca), not in parallel: with several missing, the error then always
 * names the first setting, not whichever read happened to fail first.
 */
async function readTlsFiles(tls: TlsListenerConfig): Promise<NonNullable<AmqpListenerOptions['tls']>> {
  const cert = await readPem(tls.cert, 'amqps.cert');
  const key = await readPem(tls.key, 'amqps.key');
  if (tls.ca === undefined) return { cert, key };
  return { cert, key, ca: await readPem(tls.ca, 'amqps.ca') };
}

async function readPem(path: string, setting: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
  }
}
