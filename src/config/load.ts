import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { readConfigFile } from './file.js';
import { layerFromEnvironment, layerFromFlags } from './settings.js';
import type { Environment } from './settings.js';
import { ConfigError } from './types.js';
import type { ConfigLayer, LimitsConfig, ListenerConfig, PermissionConfig, StoreConfig, UserConfig, WarrenConfig } from './types.js';

export interface LoadConfigOptions {
  /** Config file; else WARREN_CONFIG; else none (built-in defaults). */
  file?: string | undefined;
  /** Default: process.env. Pass {} in tests to ignore the real environment. */
  env?: Environment;
  /** Flag values keyed by flag name without dashes, e.g. { 'amqp-port': '0' }. */
  flags?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths given by environment and flags. Default: process.cwd(). */
  cwd?: string;
}

/** RabbitMQ's limits, which clients are tuned for. */
export const DEFAULT_LIMITS: Readonly<LimitsConfig> = {
  maxConnections: 10000,
  channelMax: 2047,
  frameMax: 131072,
  heartbeatSeconds: 60,
  maxMessageBytes: 128 * 1024 * 1024,
  consumerTimeoutMs: 0,
  memoryHighWatermark: 0.4,
};

/** RabbitMQ's disk_free_limit default is 50 MB; the others are Warren's. */
export const DEFAULT_STORE: Readonly<StoreConfig> = {
  sync: 'always',
  syncIntervalMs: 200,
  diskFreeLimitBytes: 50_000_000,
  queueMemoryBytes: 16 * 1024 * 1024,
};

export const DEFAULT_AMQP: Readonly<ListenerConfig> = { host: '0.0.0.0', port: 5672 };
export const DEFAULT_AMQPS_PORT = 5671;
export const DEFAULT_HTTP: Readonly<ListenerConfig> = { host: '0.0.0.0', port: 15672 };

/**
 * Resolves the configuration: defaults < config file < environment < flags. Throws ConfigError with a
 * message naming the source and key of the first invalid setting.
 */
export function loadConfig(options: LoadConfigOptions = {}): WarrenConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const fileName = options.file ?? nonEmpty(env['WARREN_CONFIG']);
  const fromFile = fileName === undefined ? undefined : readConfigFile(fileName, cwd);
  const layers = [fromFile?.layer ?? {}, layerFromEnvironment(env, cwd), layerFromFlags(options.flags ?? {}, cwd)];
  const config = resolveLayers(layers, env, cwd);
  config.configFile = fromFile?.file;
  checkPermissionReferences(config, fileName ?? 'config');
  return config;
}

/** Merges layers over the defaults; later layers win field by field, lists are replaced whole. */
export function resolveLayers(layers: readonly ConfigLayer[], env: Environment, cwd: string): WarrenConfig {
  const pick = <K extends keyof ConfigLayer>(key: K): ConfigLayer[K] => {
    let found: ConfigLayer[K] = undefined;
    for (const layer of layers) if (layer[key] !== undefined) found = layer[key];
    return found;
  };
  const section = <K extends 'amqp' | 'amqps' | 'http' | 'limits' | 'store' | 'log' | 'cluster' | 'sqs' | 'stomp' | 'mqtt' | 'kafka'>(key: K): NonNullable<ConfigLayer[K]> =>
    Object.assign({}, ...layers.map((layer) => layer[key] ?? {})) as NonNullable<ConfigLayer[K]>;

  const amqp: ListenerConfig = { ...DEFAULT_AMQP, ...section('amqp') };
  const defaultUser = builtInUser(env);
  const users = pick('users');
  return {
    amqp,
    amqps: resolveAmqps(section('amqps'), amqp.host),
    http: { ...DEFAULT_HTTP, ...section('http') },
    dataDir: pick('dataDir') ?? resolve(cwd, 'data'),
    limits: { ...DEFAULT_LIMITS, ...section('limits') },
    store: { ...DEFAULT_STORE, ...section('store') },
    log: { level: 'info', ...section('log') },
    users: users ?? [defaultUser.user],
    vhosts: pick('vhosts') ?? [{ name: '/' }],
    permissions: pick('permissions') ?? (users === undefined ? [defaultUser.permission] : []),
    loopbackUsers: pick('loopbackUsers') ?? ['guest'],
    configFile: undefined,
    cluster: resolveCluster(section('cluster')),
    sqs: resolveSqs(section('sqs'), layers.some((layer) => layer.sqs !== undefined)),
    shovels: pick('shovels') ?? {},
    stomp: resolveStomp(section('stomp'), amqp.host),
    push: { allowHttp: false, allowHosts: [], secrets: {}, ...pick('push') },
    mqtt: resolveMqtt(section('mqtt'), amqp.host),
    kafka: resolveKafka(section('kafka'), amqp.host),
  };
}

export const DEFAULT_KAFKA_PORT = 9092;

/** Kafka is on when a port (or any other kafka setting) is configured. */
function resolveKafka(merged: NonNullable<ConfigLayer['kafka']>, defaultHost: string): WarrenConfig['kafka'] {
  if (Object.values(merged).every((value) => value === undefined)) return undefined;
  return {
    host: merged.host ?? defaultHost,
    port: merged.port ?? DEFAULT_KAFKA_PORT,
    vhost: merged.vhost ?? '/',
    advertisedHost: merged.advertisedHost,
    advertisedPort: merged.advertisedPort,
    autoCreateTopics: merged.autoCreateTopics ?? false,
    requireSasl: merged.requireSasl ?? false,
    maxRequestBytes: merged.maxRequestBytes ?? 100 * 1024 * 1024,
    defaultPartitions: merged.defaultPartitions ?? 1,
  };
}

export const DEFAULT_MQTTS_PORT = 8883;

/** MQTT is on when a port is configured; TLS when a certificate and a key are. */
function resolveMqtt(merged: NonNullable<ConfigLayer['mqtt']>, defaultHost: string): WarrenConfig['mqtt'] {
  const { port, cert, key, tlsPort, ca } = merged;
  if (port === undefined && cert === undefined && key === undefined) return undefined;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError(`mqtt TLS needs both cert and key (only ${cert === undefined ? 'key' : 'cert'} is set)`);
  const host = merged.host ?? defaultHost;
  return {
    host,
    port: port ?? 1883,
    allowAnonymous: merged.allowAnonymous ?? true,
    vhost: merged.vhost ?? '/',
    tls: cert === undefined || key === undefined ? undefined : { host, port: tlsPort ?? DEFAULT_MQTTS_PORT, cert, key, ca },
  };
}

/** guest/guest, administrator, everything on '/': RabbitMQ's out-of-the-box user (WARREN_DEFAULT_USER/PASS rename it). */
function builtInUser(env: Environment): { user: UserConfig; permission: PermissionConfig } {
  const name = nonEmpty(env['WARREN_DEFAULT_USER']) ?? 'guest';
  const password = nonEmpty(env['WARREN_DEFAULT_PASS']) ?? 'guest';
  return {
    user: { name, password, tags: ['administrator'] },
    permission: { user: name, vhost: '/', configure: '.*', write: '.*', read: '.*' },
  };
}

export const DEFAULT_STOMP_PORT = 61613;

/** On when the section, a port flag or variable is given (and not `enabled: false`). */
function resolveStomp(merged: NonNullable<ConfigLayer['stomp']>, defaultHost: string): WarrenConfig['stomp'] {
  const on = merged.enabled ?? (merged.port !== undefined || merged.host !== undefined || merged.tlsPort !== undefined);
  if (!on) return undefined;
  return { enabled: true, host: merged.host ?? defaultHost, port: merged.port ?? DEFAULT_STOMP_PORT, tlsPort: merged.tlsPort };
}

function resolveAmqps(merged: NonNullable<ConfigLayer['amqps']>, defaultHost: string): WarrenConfig['amqps'] {
  const { cert, key } = merged;
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new ConfigError(`amqps needs both cert and key (only ${cert === undefined ? 'key' : 'cert'} is set)`);
  }
  return { host: merged.host ?? defaultHost, port: merged.port ?? DEFAULT_AMQPS_PORT, cert, key, ca: merged.ca };
}

export const DEFAULT_CLUSTER = { advertiseHost: '127.0.0.1', leaseMs: 10_000, heartbeatMs: 1_000, defaultQueueType: 'classic' } as const;

/** Cluster mode needs a URL; the other keys without one are a mistake worth stopping for. */
function resolveCluster(merged: NonNullable<ConfigLayer['cluster']>): WarrenConfig['cluster'] {
  const { url, ...rest } = merged;
  if (url === undefined) {
    const stray = Object.keys(rest)[0];
    if (stray !== undefined) throw new ConfigError(`cluster.${stray} is set but cluster.url is not (--cluster / WARREN_CLUSTER_URL)`);
    return undefined;
  }
  const cluster = { ...DEFAULT_CLUSTER, nodeName: `warren@${hostname()}`, linkPort: undefined, ...rest, url };
  if (cluster.heartbeatMs * 3 > cluster.leaseMs) {
    throw new ConfigError(`cluster.heartbeatMs (${cluster.heartbeatMs}) must be at most a third of cluster.leaseMs (${cluster.leaseMs})`);
  }
  return cluster;
}

function checkPermissionReferences(config: WarrenConfig, label: string): void {
  const users = new Set(config.users.map((user) => user.name));
  const vhosts = new Set(['/', ...config.vhosts.map((vhost) => vhost.name)]);
  config.permissions.forEach((entry, index) => {
    if (!users.has(entry.user)) {
      throw new ConfigError(`${label}: permissions[${index}].user '${entry.user}' is not defined under users`);
    }
    if (!vhosts.has(entry.vhost)) {
      throw new ConfigError(`${label}: permissions[${index}].vhost '${entry.vhost}' is not defined under vhosts`);
    }
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

export const DEFAULT_SQS = { host: '0.0.0.0', port: 9324, region: 'us-east-1', account: '000000000000' } as const;

/** The SQS door is on when any of its settings is given; vhost '/' is account 000000000000 unless mapped. */
function resolveSqs(merged: NonNullable<ConfigLayer['sqs']>, given: boolean): WarrenConfig['sqs'] {
  if (!given) return undefined;
  if ((merged.cert === undefined) !== (merged.key === undefined)) {
    throw new ConfigError(`sqs needs both cert and key for HTTPS (only ${merged.cert === undefined ? 'key' : 'cert'} is set)`);
  }
  return {
    host: merged.host ?? DEFAULT_SQS.host,
    port: merged.port ?? DEFAULT_SQS.port,
    region: merged.region ?? DEFAULT_SQS.region,
    accounts: merged.accounts ?? [{ account: DEFAULT_SQS.account, vhost: '/' }],
    accessKeys: merged.accessKeys ?? [],
    cert: merged.cert,
    key: merged.key,
  };
}
