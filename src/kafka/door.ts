/**
 * The Kafka door's shared state: one per server, shared by its listeners and connections. Holds the
 * API table, the settings, the gates that may refuse a request before its handler runs (SASL's
 * "authenticate first"), and door-wide state of other parts (the group coordinator) by key.
 */
import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { KafkaApi, RequestHeader } from './api.js';
import type { KafkaSession } from './session.js';
import { KafkaTopics } from './topics.js';
import { registerBatchDecoder } from './stored-batches.js';

export interface KafkaSettings {
  /** The vhost Kafka topics live in (`kafka.vhost`, default '/'). */
  readonly vhost: string;
  /** Metadata and Produce to a missing topic create it (`kafka.autoCreateTopics`, default false). */
  readonly autoCreateTopics: boolean;
  /** Unauthenticated clients are refused everywhere, loopback included (`kafka.requireSasl`; src/kafka/auth). */
  readonly requireSasl: boolean;
  /** Host named in Metadata; undefined: the address the client connected to (`kafka.advertisedHost`). */
  readonly advertisedHost: string | undefined;
  /** Port named in Metadata; undefined: the listener's port (`kafka.advertisedPort`). */
  readonly advertisedPort: number | undefined;
  /** Largest request frame accepted; a larger size prefix closes the connection (Kafka's socket.request.max.bytes). */
  readonly maxRequestBytes: number;
  /** Partitions of a topic created without a count (-1), and by auto-create (Kafka's num.partitions). */
  readonly defaultPartitions: number;
  /** This broker's node id in Metadata (a single Warren node is the leader of every partition). */
  readonly nodeId: number;
  readonly clusterId: string;
}

export const DEFAULT_KAFKA_SETTINGS: KafkaSettings = {
  vhost: '/',
  autoCreateTopics: false,
  requireSasl: false,
  advertisedHost: undefined,
  advertisedPort: undefined,
  maxRequestBytes: 100 * 1024 * 1024,
  defaultPartitions: 1,
  nodeId: 0,
  clusterId: 'warren',
};

/** A reason to close the connection instead of handling the request; undefined lets it through. */
export type RequestGate = (session: KafkaSession, header: RequestHeader, api: KafkaApi | undefined) => string | undefined;

export class KafkaDoor {
  readonly apis: ReadonlyMap<number, KafkaApi>;
  /** Checked in order for every request (after its header is read, before its handler runs). */
  readonly gates: RequestGate[] = [];
  private readonly parts = new Map<string, unknown>();
  private readonly closers: Array<() => void | Promise<void>> = [];
  /** A resource alarm's reason while publishers must wait (Produce holds its answer). */
  blockedReason: string | undefined;
  /** Topics as streams in `settings.vhost` (topics.ts). */
  readonly topics: KafkaTopics;

  constructor(
    readonly broker: Broker,
    readonly users: UserRegistry,
    readonly settings: KafkaSettings,
    readonly logger: Logger,
    apis: readonly KafkaApi[],
  ) {
    const table = new Map<number, KafkaApi>();
    for (const api of apis) {
      if (table.has(api.key)) throw new Error(`Kafka API key ${api.key} (${api.name}) is in the table twice`);
      table.set(api.key, api);
    }
    this.apis = table;
    this.gates.push(authenticateFirst);
    this.topics = new KafkaTopics(broker, settings.vhost);
    registerBatchDecoder(broker, this.topics);
  }

  /** Door-wide state of a part, made on first use (e.g. `door.part('groups', () => new Coordinator(door))`). */
  part<T>(key: string, create: () => T): T {
    if (!this.parts.has(key)) this.parts.set(key, create());
    return this.parts.get(key) as T;
  }

  /** Runs when the door closes (after its listeners). */
  onClose(callback: () => void | Promise<void>): void {
    this.closers.push(callback);
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close();
  }
}

/** APIs a client may use before it has a user: the version handshake and SASL itself (KIP-43, KIP-152). */
const BEFORE_AUTHENTICATION = new Set([18 /* ApiVersions */, 17 /* SaslHandshake */, 36 /* SaslAuthenticate */]);

/**
 * A client without a user (not loopback, or `requireSasl`) may only negotiate versions and
 * authenticate; anything else closes the connection, as a Kafka broker with a SASL listener does.
 */
const authenticateFirst: RequestGate = (session, header) =>
  session.user === undefined && !BEFORE_AUTHENTICATION.has(header.apiKey) ? `${header.apiKey} before authentication` : undefined;
