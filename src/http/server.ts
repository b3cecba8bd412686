import type { AddressInfo } from 'node:net';
import { hostname, totalmem } from 'node:os';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { pino, type Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { ConnectionView } from '../session/views.js';
import { authenticate } from './auth.js';
import type { AlarmStatus, ClusterView, LinksView, ListenerInfo, ManagementContext } from './context.js';
import { registerDashboard } from './dashboard/registration.js';
import { badRequest, objectNotFound, toHttpError } from './errors.js';
import { MetricsCollector } from './metrics.js';
import { RateSampler } from './rates.js';
import { registerRoutes } from './routes/index.js';

export interface HttpServerOptions {
  host?: string;
  /** 0 = ephemeral. */
  port: number;
  /** Default "warren@<hostname>". */
  nodeName?: string;
  /** Where disk free space is measured; default the working directory. */
  dataDir?: string;
  /** Rate sampling interval (RabbitMQ's collect_statistics_interval is 5 s). */
  sampleIntervalMs?: number;
  /** Static assets of a web dashboard, registered outside /api (see dashboard/registration.ts). */
  dashboard?: FastifyPluginAsync;
  /** Cluster mode: the nodes and queue owners /api/nodes and /api/queues show. */
  cluster?: ClusterView;
  /** The front doors' listener addresses for /api/overview. */
  listeners?: () => ListenerInfo[];
  /** Routes a front door adds under /api (behind the same authentication), registered by the composition root. */
  extraRoutes?: ReadonlyArray<(app: FastifyInstance) => void>;
  /** Shovels and federation links for /api/shovels, /api/federation-links and /metrics. */
  links?: LinksView;
}

export interface HttpServerSources {
  broker: Broker;
  users: UserRegistry;
  /** Live connections of every front door (the management API lists and closes them). */
  connections: () => Iterable<ConnectionView>;
  /** Resource alarms (memory, disk); default: none raised, RabbitMQ's default limits reported. */
  alarms?: () => AlarmStatus;
  /** Push queues' delivery state (src/push). */
  pushStates?: () => readonly object[];
}

function noAlarms(): AlarmStatus {
  return { memoryAlarm: false, memoryUsedBytes: process.memoryUsage.rss(), memoryLimitBytes: Math.floor(totalmem() * 0.4), diskAlarm: false, diskFreeLimitBytes: 50_000_000 };
}

/** Request bodies up to this size (definitions of large brokers). */
const BODY_LIMIT = 64 * 1024 * 1024;

/**
 * The management HTTP API (RabbitMQ's shapes under /api) and Prometheus metrics (/metrics). Everything
 * is per instance; `app.inject()` exercises it without a port.
 */
export class HttpServer {
  readonly app: FastifyInstance;
  readonly context: ManagementContext;
  readonly metrics: MetricsCollector;
  private address: { host: string; port: number } | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    sources: HttpServerSources,
    private readonly options: HttpServerOptions,
    logger: Logger = pino({ level: 'silent' }),
  ) {
    const rates = new RateSampler(sources.broker, options.sampleIntervalMs ?? 5000);
    this.context = {
      broker: sources.broker,
      users: sources.users,
      connections: sources.connections,
      alarms: sources.alarms ?? noAlarms,
      listeners: () => [...(options.listeners?.() ?? []), ...this.ownListener()],
      rates,
      nodeName: options.nodeName ?? `warren@${hostname()}`,
      cluster: options.cluster,
      links: options.links,
      ...(sources.pushStates === undefined ? {} : { pushStates: sources.pushStates }),
      startedAt: Date.now(),
      dataDir: options.dataDir ?? process.cwd(),
      owner: { name: 'management API' },
      logger,
    };
    this.metrics = new MetricsCollector(this.context);
    // Fastify's own per-request logging stays off; failures are logged by the error handler below.
    this.app = Fastify({ bodyLimit: BODY_LIMIT, return503OnClosing: true });
    this.configure(options.dashboard);
    for (const register of options.extraRoutes ?? []) register(this.app);
    rates.start();
  }

  listen(): Promise<{ host: string; port: number }> {
    return this.app.listen({ host: this.options.host ?? '0.0.0.0', port: this.options.port }).then(() => {
      const info = this.app.server.address() as AddressInfo;
      this.address = { host: info.address, port: info.port };
      return this.address;
    });
  }

  /** Stops the rate timer and the listener (idempotent). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.context.rates.stop();
      await this.app.close();
    })();
    return this.closing;
  }

  private ownListener(): ListenerInfo[] {
    return this.address === undefined ? [] : [{ protocol: 'http', host: this.address.host, port: this.address.port }];
  }

  private configure(dashboard: FastifyPluginAsync | undefined): void {
    const app = this.app;
    // RabbitMQ parses any body as JSON whatever its content type (curl often sends none or form type).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      const text = (body as string).trim();
      if (text === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(badRequest('not_json'), undefined);
      }
    });
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const mapped = toHttpError(error);
      if (mapped !== undefined) return reply.code(mapped.statusCode).send(mapped.body);
      if (typeof error.statusCode === 'number' && error.statusCode < 500) {
        return reply.code(error.statusCode).send({ error: 'bad_request', reason: error.message });
      }
      this.context.logger.error({ err: error, url: request.url }, 'management API handler failed');
      return reply.code(500).send({ error: 'internal_error', reason: error.message });
    });
    app.setNotFoundHandler((_request, reply) => reply.code(404).send(objectNotFound().body));
    app.decorateRequest('managementUser', null as never);
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/api/')) return;
      const user = authenticate(this.context.users, request, reply);
      if (user === undefined) return reply;
      request.managementUser = user;
      return undefined;
    });
    app.get('/metrics', async (_request, reply) => {
      const text = await this.metrics.scrape();
      return reply.type(this.metrics.contentType).send(text);
    });
    registerRoutes(app, this.context);
    if (dashboard !== undefined) registerDashboard(app, dashboard);
  }
}
