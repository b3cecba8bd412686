/** The resolved configuration: a plain object, every field present and validated. */
export interface WarrenConfig {
  amqp: ListenerConfig;
  /** Present only when both a certificate and a key are configured. */
  amqps: TlsListenerConfig | undefined;
  /** For the management HTTP API. */
  http: ListenerConfig;
  /** Absolute path. */
  dataDir: string;
  limits: LimitsConfig;
  /** How durable data is written (see README "Durability"). */
  store: StoreConfig;
  log: LogConfig;
  users: UserConfig[];
  vhosts: VhostConfig[];
  permissions: PermissionConfig[];
  /** Users that may connect only from the local machine (RabbitMQ's loopback_users). */
  loopbackUsers: string[];
  /** Absolute path of the config file that was read, if any. */
  configFile: string | undefined;
  /** Cluster mode (README "Cluster"); undefined: a single broker. */
  cluster: ClusterConfig | undefined;
  /** The SQS door (README "SQS"); undefined: off. */
  sqs: SqsConfig | undefined;
  /** Static shovels (README "Shovels"): name -> RabbitMQ's dynamic shovel keys, plus `vhost` (default '/'). */
  shovels: Record<string, Record<string, unknown>>;
  /** The STOMP door (README "STOMP"); undefined: off (no stomp section, flag or variable). */
  stomp: StompConfig | undefined;
  /** Push queues (README "Push queues"): what endpoints may be, and the signing secrets. */
  push: PushConfigSection;
  /** The MQTT door (README "MQTT"); undefined: off (no mqtt port configured). */
  mqtt?: MqttConfig | undefined;
  /** The Kafka door (README "Kafka"); undefined: off (no kafka port configured). */
  kafka?: KafkaConfig | undefined;
}

/** The SQS front door: on when any sqs setting (file, WARREN_SQS_*, --sqs-*) is given. */
export interface SqsConfig extends ListenerConfig {
  /** The region in queue ARNs. */
  region: string;
  /** Which AWS account id (12 digits) each vhost is; queue URLs are http://HOST:PORT/ACCOUNT/NAME. */
  accounts: SqsAccountConfig[];
  /** Access key pairs for Warren users, issued at every start (their secrets are also kept in the data dir). */
  accessKeys: SqsAccessKeyConfig[];
  /** Absolute paths of PEM files: HTTPS instead of HTTP when both are set. */
  cert: string | undefined;
  key: string | undefined;
}

export interface SqsAccountConfig {
  account: string;
  vhost: string;
}

export interface SqsAccessKeyConfig {
  accessKeyId: string;
  secretAccessKey: string;
  user: string;
  vhost: string;
}


/** STOMP on TCP (RabbitMQ's port 61613) and over WebSocket at /ws on the HTTP port. */
export interface StompConfig extends ListenerConfig {
  enabled: boolean;
  /** STOMP over TLS on this port (RabbitMQ: 61614), with the amqps certificate and key; undefined = none. */
  tlsPort: number | undefined;
}


export interface PushConfigSection {
  /** Allow http:// endpoints (default false: https only). */
  allowHttp: boolean;
  /** Hosts allowed although private, loopback or link-local. */
  allowHosts: string[];
  /** Signing secrets by name (a queue names one with x-push-secret). */
  secrets: Record<string, string>;
}


export interface MqttConfig extends ListenerConfig {
  /** Clients without a user name connect as guest (loopback only); false refuses them. */
  allowAnonymous: boolean;
  /** The vhost for user names without a "vhost:" prefix. */
  vhost: string;
  /** MQTT over TLS; present only when both cert and key are set. */
  tls: TlsListenerConfig | undefined;
}

/** The Kafka door: topics are stream queues (or super streams) in one vhost. */
export interface KafkaConfig extends ListenerConfig {
  /** The vhost topics live in (default '/'). */
  vhost: string;
  /** Host named in Metadata responses; undefined: the address each client connected to. */
  advertisedHost: string | undefined;
  /** Port named in Metadata responses; undefined: the listener's port. */
  advertisedPort: number | undefined;
  /** Metadata and Produce for a missing topic create it (default false). */
  autoCreateTopics: boolean;
  /** Refuse clients that do not authenticate with SASL, loopback included (default false). */
  requireSasl: boolean;
  /** Largest request accepted (Kafka's socket.request.max.bytes; default 104857600). */
  maxRequestBytes: number;
  /** Partitions of topics created without a count (Kafka's num.partitions; default 1). */
  defaultPartitions: number;
}

export const QUEUE_TYPES = ['classic', 'quorum'] as const;

export interface ClusterConfig {
  /** postgres://user:pass@host:port/db: where the cluster's shared state lives. */
  url: string;
  /** This node's name, unique in the cluster (RabbitMQ's `node` field). */
  nodeName: string;
  /** The address peers reach this node at (recorded in PostgreSQL). */
  advertiseHost: string;
  /** Node-to-node links: this port; undefined = the AMQP port (links are recognised by their header). */
  linkPort: number | undefined;
  /** A node whose lease is older than this is declared dead (and fenced) by the living. */
  leaseMs: number;
  /** How often a node renews its lease and looks for dead peers. */
  heartbeatMs: number;
  /** The type of queues declared without x-queue-type: 'quorum' replicates every queue in PostgreSQL. */
  defaultQueueType: (typeof QUEUE_TYPES)[number];
}

export interface ListenerConfig {
  host: string;
  /** 0 picks a free port. */
  port: number;
}

export interface TlsListenerConfig extends ListenerConfig {
  /** Absolute paths of PEM files. */
  cert: string;
  key: string;
  ca: string | undefined;
}

export interface LimitsConfig {
  maxConnections: number;
  channelMax: number;
  frameMax: number;
  heartbeatSeconds: number;
  maxMessageBytes: number;
  /** A delivery not acknowledged within this many ms is returned to its queue; 0 = no limit. */
  consumerTimeoutMs: number;
  /** Share of the machine's memory at which publishers are blocked (memory alarm). */
  memoryHighWatermark: number;
}

export const SYNC_MODES = ['always', 'periodic'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export interface StoreConfig {
  /**
   * 'always': a confirm / tx.commit-ok is sent only after fdatasync (survives power loss).
   * 'periodic': once written to the OS (survives a broker crash); fdatasync every syncIntervalMs.
   */
  sync: SyncMode;
  /** fdatasync interval for 'periodic'. */
  syncIntervalMs: number;
  /** Below this many free bytes on the data dir's filesystem publishers are blocked (disk alarm). */
  diskFreeLimitBytes: number;
  /** Message bodies a durable queue keeps in memory; beyond that they are read back from disk. */
  queueMemoryBytes: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogConfig {
  level: LogLevel;
}

/** Exactly one of password / passwordHash (RabbitMQ's base64 SHA-256 format) is set. */
export interface UserConfig {
  name: string;
  password?: string;
  passwordHash?: string;
  tags: string[];
}

export interface VhostConfig {
  name: string;
}

export interface PermissionConfig {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

/** One source's contribution (defaults < file < environment < flags); later layers win field by field. */
export interface ConfigLayer {
  amqp?: Partial<ListenerConfig>;
  amqps?: Partial<Omit<TlsListenerConfig, 'ca'>> & { ca?: string };
  http?: Partial<ListenerConfig>;
  dataDir?: string;
  limits?: Partial<LimitsConfig>;
  store?: Partial<StoreConfig>;
  log?: Partial<LogConfig>;
  /** Lists replace the lower layer's list as a whole. */
  users?: UserConfig[];
  vhosts?: VhostConfig[];
  permissions?: PermissionConfig[];
  loopbackUsers?: string[];
  cluster?: Partial<ClusterConfig>;
  sqs?: Partial<SqsConfig>;
  shovels?: Record<string, Record<string, unknown>>;
  stomp?: Partial<StompConfig>;
  push?: Partial<PushConfigSection>;
  mqtt?: Partial<Omit<MqttConfig, 'tls'>> & { tlsPort?: number; cert?: string; key?: string; ca?: string };
  kafka?: Partial<KafkaConfig>;
}

/** Thrown for any invalid setting; the message names the source and the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
