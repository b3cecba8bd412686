import { resolve } from 'node:path';
import { CLUSTER_VALIDATORS, KAFKA_VALIDATORS, LIMIT_VALIDATORS, logLevel, MQTT_VALIDATORS, STORE_VALIDATORS } from './file.js';
import type { ConfigLayer } from './types.js';
import { nonEmptyString, port } from './validators.js';
import type { Validator } from './validators.js';

/**
 * The settings that can also be given as an environment variable and a command-line flag. One table
 * drives both, and the CLI's --help text, so the three never drift apart.
 */
export interface ScalarSetting {
  /** Environment variable, e.g. WARREN_AMQP_PORT. */
  env: string;
  /** Long flag without dashes, e.g. amqp-port. */
  flag: string;
  /** Placeholder in --help, e.g. <port>. */
  argument: string;
  description: string;
  /** Validates `raw` and stores it in the layer; `where` names the source in errors. */
  apply(layer: ConfigLayer, raw: string, where: string, cwd: string): void;
}

type Section = 'amqp' | 'amqps' | 'http' | 'limits' | 'store' | 'log' | 'cluster' | 'sqs' | 'stomp' | 'mqtt' | 'kafka';

function into<T>(section: Section, key: string, validate: Validator<T>): ScalarSetting['apply'] {
  return (layer, raw, where) => {
    const target = (layer[section] ??= {}) as Record<string, unknown>;
    target[key] = validate(raw, where);
  };
}

function pathInto(section: 'amqps' | 'mqtt' | undefined, key: string): ScalarSetting['apply'] {
  return (layer, raw, where, cwd) => {
    const path = resolve(cwd, nonEmptyString(raw, where));
    if (section === undefined) (layer as Record<string, unknown>)[key] = path;
    else ((layer[section] ??= {}) as Record<string, unknown>)[key] = path;
  };
}

export const SCALAR_SETTINGS: readonly ScalarSetting[] = [
  { env: 'WARREN_AMQP_HOST', flag: 'amqp-host', argument: '<host>', description: 'AMQP listen address (default 0.0.0.0)', apply: into('amqp', 'host', nonEmptyString) },
  { env: 'WARREN_AMQP_PORT', flag: 'amqp-port', argument: '<port>', description: 'AMQP port; 0 picks a free one (default 5672)', apply: into('amqp', 'port', port) },
  { env: 'WARREN_AMQPS_HOST', flag: 'amqps-host', argument: '<host>', description: 'AMQPS (TLS) listen address (default: the AMQP host)', apply: into('amqps', 'host', nonEmptyString) },
  { env: 'WARREN_AMQPS_PORT', flag: 'amqps-port', argument: '<port>', description: 'AMQPS port (default 5671); TLS listens only when cert and key are set', apply: into('amqps', 'port', port) },
  { env: 'WARREN_AMQPS_CERT', flag: 'amqps-cert', argument: '<file>', description: 'PEM certificate (chain) for AMQPS', apply: pathInto('amqps', 'cert') },
  { env: 'WARREN_AMQPS_KEY', flag: 'amqps-key', argument: '<file>', description: 'PEM private key for AMQPS', apply: pathInto('amqps', 'key') },
  { env: 'WARREN_AMQPS_CA', flag: 'amqps-ca', argument: '<file>', description: 'PEM CA bundle for AMQPS clients (optional)', apply: pathInto('amqps', 'ca') },
  { env: 'WARREN_HTTP_HOST', flag: 'http-host', argument: '<host>', description: 'management HTTP listen address (default 0.0.0.0)', apply: into('http', 'host', nonEmptyString) },
  { env: 'WARREN_HTTP_PORT', flag: 'http-port', argument: '<port>', description: 'management HTTP port (default 15672)', apply: into('http', 'port', port) },
  { env: 'WARREN_DATA_DIR', flag: 'data-dir', argument: '<dir>', description: 'where durable data lives (default ./data)', apply: pathInto(undefined, 'dataDir') },
  { env: 'WARREN_STORE_SYNC', flag: 'store-sync', argument: '<mode>', description: "'always': confirm after fdatasync (default); 'periodic': confirm once written to the OS, fdatasync every --store-sync-interval", apply: into('store', 'sync', STORE_VALIDATORS.sync) },
  { env: 'WARREN_STORE_SYNC_INTERVAL', flag: 'store-sync-interval', argument: '<ms>', description: "fdatasync interval of the 'periodic' sync mode (default 200)", apply: into('store', 'syncIntervalMs', STORE_VALIDATORS.syncIntervalMs) },
  { env: 'WARREN_DISK_FREE_LIMIT', flag: 'disk-free-limit', argument: '<bytes>', description: 'block publishers while the data dir has less free space (default 50000000)', apply: into('store', 'diskFreeLimitBytes', STORE_VALIDATORS.diskFreeLimitBytes) },
  { env: 'WARREN_QUEUE_MEMORY', flag: 'queue-memory', argument: '<bytes>', description: 'message bodies a durable queue keeps in memory; the rest are read from disk when needed (default 16777216)', apply: into('store', 'queueMemoryBytes', STORE_VALIDATORS.queueMemoryBytes) },
  { env: 'WARREN_LOG_LEVEL', flag: 'log-level', argument: '<level>', description: 'fatal, error, warn, info, debug, trace or silent (default info)', apply: into('log', 'level', logLevel) },
  { env: 'WARREN_MAX_CONNECTIONS', flag: 'max-connections', argument: '<n>', description: 'most client connections at once (default 10000)', apply: into('limits', 'maxConnections', LIMIT_VALIDATORS.maxConnections) },
  { env: 'WARREN_CHANNEL_MAX', flag: 'channel-max', argument: '<n>', description: 'most channels per connection (default 2047)', apply: into('limits', 'channelMax', LIMIT_VALIDATORS.channelMax) },
  { env: 'WARREN_FRAME_MAX', flag: 'frame-max', argument: '<bytes>', description: 'largest frame offered to clients, >= 4096 (default 131072)', apply: into('limits', 'frameMax', LIMIT_VALIDATORS.frameMax) },
  { env: 'WARREN_HEARTBEAT', flag: 'heartbeat', argument: '<seconds>', description: 'heartbeat interval offered to clients; 0 disables (default 60)', apply: into('limits', 'heartbeatSeconds', LIMIT_VALIDATORS.heartbeatSeconds) },
  { env: 'WARREN_CONSUMER_TIMEOUT', flag: 'consumer-timeout', argument: '<ms>', description: 'return a delivery to its queue when not acked within this time; 0 = never (default 0; per queue: x-consumer-timeout)', apply: into('limits', 'consumerTimeoutMs', LIMIT_VALIDATORS.consumerTimeoutMs) },
  { env: 'WARREN_MEMORY_HIGH_WATERMARK', flag: 'memory-high-watermark', argument: '<share>', description: "block publishers while the broker uses more than this share of the machine's memory (default 0.4)", apply: into('limits', 'memoryHighWatermark', LIMIT_VALIDATORS.memoryHighWatermark) },
  { env: 'WARREN_CLUSTER_URL', flag: 'cluster', argument: '<postgres-url>', description: 'run as a cluster node whose shared state is in this PostgreSQL database (README "Cluster")', apply: into('cluster', 'url', CLUSTER_VALIDATORS.url) },
  { env: 'WARREN_NODE_NAME', flag: 'node-name', argument: '<name>', description: "this cluster node's name, unique in the cluster (default: warren@<hostname>)", apply: into('cluster', 'nodeName', CLUSTER_VALIDATORS.nodeName) },
  { env: 'WARREN_CLUSTER_ADVERTISE_HOST', flag: 'advertise-host', argument: '<host>', description: 'the address other nodes reach this one at (default 127.0.0.1)', apply: into('cluster', 'advertiseHost', CLUSTER_VALIDATORS.advertiseHost) },
  { env: 'WARREN_CLUSTER_LINK_PORT', flag: 'link-port', argument: '<port>', description: 'port for node-to-node links (default: the AMQP port)', apply: into('cluster', 'linkPort', CLUSTER_VALIDATORS.linkPort) },
  { env: 'WARREN_SQS_PORT', flag: 'sqs-port', argument: '<port>', description: 'turn the SQS door on at this port (SQS default 9324); 0 picks a free one', apply: into('sqs', 'port', port) },
  { env: 'WARREN_SQS_HOST', flag: 'sqs-host', argument: '<host>', description: 'turn the SQS door on at this listen address (default 0.0.0.0)', apply: into('sqs', 'host', nonEmptyString) },
  { env: 'WARREN_SQS_REGION', flag: 'sqs-region', argument: '<region>', description: 'region in SQS queue ARNs (default us-east-1)', apply: into('sqs', 'region', nonEmptyString) },
  { env: 'WARREN_STOMP_PORT', flag: 'stomp-port', argument: '<port>', description: 'turn STOMP on, on this port (RabbitMQ: 61613); 0 picks a free one; also serves STOMP over WebSocket at /ws on the HTTP port', apply: into('stomp', 'port', port) },
  { env: 'WARREN_STOMP_TLS_PORT', flag: 'stomp-tls-port', argument: '<port>', description: 'STOMP over TLS on this port (RabbitMQ: 61614), with the --amqps-cert and --amqps-key certificate', apply: into('stomp', 'tlsPort', port) },
  { env: 'WARREN_STOMP_HOST', flag: 'stomp-host', argument: '<host>', description: 'STOMP listen address (default: the AMQP host)', apply: into('stomp', 'host', nonEmptyString) },
  { env: 'WARREN_MAX_MESSAGE_BYTES', flag: 'max-message-bytes', argument: '<bytes>', description: 'largest message body accepted (default 134217728)', apply: into('limits', 'maxMessageBytes', LIMIT_VALIDATORS.maxMessageBytes) },
  { env: 'WARREN_MQTT_PORT', flag: 'mqtt-port', argument: '<port>', description: 'MQTT 3.1.1/5.0 port (1883 is the usual one); 0 picks a free one; unset: MQTT is off', apply: into('mqtt', 'port', MQTT_VALIDATORS.port) },
  { env: 'WARREN_MQTT_HOST', flag: 'mqtt-host', argument: '<host>', description: 'MQTT listen address (default: the AMQP host)', apply: into('mqtt', 'host', MQTT_VALIDATORS.host) },
  { env: 'WARREN_MQTT_ALLOW_ANONYMOUS', flag: 'mqtt-allow-anonymous', argument: '<true|false>', description: "MQTT clients without a user name connect as guest, from localhost only (default true)", apply: into('mqtt', 'allowAnonymous', MQTT_VALIDATORS.allowAnonymous) },
  { env: 'WARREN_MQTT_TLS_PORT', flag: 'mqtt-tls-port', argument: '<port>', description: 'MQTT over TLS port (default 8883); listens only when cert and key are set', apply: into('mqtt', 'tlsPort', MQTT_VALIDATORS.tlsPort) },
  { env: 'WARREN_MQTT_TLS_CERT', flag: 'mqtt-tls-cert', argument: '<file>', description: 'PEM certificate (chain) for MQTT over TLS', apply: pathInto('mqtt', 'cert') },
  { env: 'WARREN_MQTT_TLS_KEY', flag: 'mqtt-tls-key', argument: '<file>', description: 'PEM private key for MQTT over TLS', apply: pathInto('mqtt', 'key') },
  { env: 'WARREN_KAFKA_PORT', flag: 'kafka-port', argument: '<port>', description: 'Kafka protocol port (9092 is the usual one); 0 picks a free one; unset: Kafka is off', apply: into('kafka', 'port', KAFKA_VALIDATORS.port) },
  { env: 'WARREN_KAFKA_HOST', flag: 'kafka-host', argument: '<host>', description: 'Kafka listen address (default: the AMQP host)', apply: into('kafka', 'host', KAFKA_VALIDATORS.host) },
  { env: 'WARREN_KAFKA_ADVERTISED_HOST', flag: 'kafka-advertised-host', argument: '<host>', description: 'host Kafka clients are told to connect to (Metadata); default: the address each client connected to', apply: into('kafka', 'advertisedHost', KAFKA_VALIDATORS.advertisedHost) },
  { env: 'WARREN_KAFKA_ADVERTISED_PORT', flag: 'kafka-advertised-port', argument: '<port>', description: 'port Kafka clients are told to connect to (default: the Kafka port)', apply: into('kafka', 'advertisedPort', KAFKA_VALIDATORS.advertisedPort) },
  { env: 'WARREN_KAFKA_VHOST', flag: 'kafka-vhost', argument: '<vhost>', description: "vhost whose streams are the Kafka topics (default '/')", apply: into('kafka', 'vhost', KAFKA_VALIDATORS.vhost) },
  { env: 'WARREN_KAFKA_AUTO_CREATE_TOPICS', flag: 'kafka-auto-create-topics', argument: '<true|false>', description: 'create a missing topic when a client asks for it (default false)', apply: into('kafka', 'autoCreateTopics', KAFKA_VALIDATORS.autoCreateTopics) },
  { env: 'WARREN_KAFKA_REQUIRE_SASL', flag: 'kafka-require-sasl', argument: '<true|false>', description: 'refuse Kafka clients that do not authenticate with SASL, loopback included (default false)', apply: into('kafka', 'requireSasl', KAFKA_VALIDATORS.requireSasl) },
];

/** Environment variables read outside the table: where the file is, and the default user. */
export const OTHER_ENV_VARIABLES = [
  { env: 'WARREN_CONFIG', description: 'YAML config file (same as --config)' },
  { env: 'WARREN_DEFAULT_USER', description: "name of the built-in user when the config file lists no users (default 'guest')" },
  { env: 'WARREN_DEFAULT_PASS', description: "password of the built-in user (default 'guest')" },
] as const;

export type Environment = Readonly<Record<string, string | undefined>>;

/** The settings found in the environment, validated; empty variables count as unset. */
export function layerFromEnvironment(env: Environment, cwd: string): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const setting of SCALAR_SETTINGS) {
    const raw = env[setting.env];
    if (raw !== undefined && raw !== '') setting.apply(layer, raw, setting.env, cwd);
  }
  return layer;
}

/** Flag values keyed by flag name without dashes ('amqp-port' => '0'), as the CLI collected them. */
export function layerFromFlags(flags: Readonly<Record<string, string | undefined>>, cwd: string): ConfigLayer {
  const layer: ConfigLayer = {};
  for (const setting of SCALAR_SETTINGS) {
    const raw = flags[setting.flag];
    if (raw !== undefined) setting.apply(layer, raw, `--${setting.flag}`, cwd);
  }
  return layer;
}

/** WARREN_* variables that Warren does not know: probably typos, worth a warning. */
export function unknownEnvironmentVariables(env: Environment): string[] {
  const known = new Set<string>([...SCALAR_SETTINGS.map((s) => s.env), ...OTHER_ENV_VARIABLES.map((v) => v.env)]);
  return Object.keys(env).filter((name) => name.startsWith('WARREN_') && !known.has(name)).sort();
}
