import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { SessionOwner } from '../broker/front-door.js';
import type { ConnectionView, ShovelRow } from '../session/views.js';
import type { RateSampler } from './rates.js';

/** One listener as /api/overview lists it. */
export interface ListenerInfo {
  /** 'amqp', 'amqp/ssl', 'http', 'mqtt', ... (RabbitMQ's names). */
  protocol: string;
  host: string;
  port: number;
}

/** The broker's resource alarms, as /api/nodes and /metrics show them. */
export interface AlarmStatus {
  memoryAlarm: boolean;
  /** Resident memory as the memory alarm last measured it. */
  memoryUsedBytes: number;
  memoryLimitBytes: number;
  diskAlarm: boolean;
  diskFreeLimitBytes: number;
  /** A cluster node whose database does not answer (publishers blocked, nothing confirmed). */
  databaseAlarm?: boolean;
}

/** One cluster node as /api/nodes lists it. */
export interface ClusterNodeInfo {
  readonly name: string;
  readonly running: boolean;
  readonly incarnation: number;
  readonly leaseUntil: Date;
  readonly joinedAt: Date;
  readonly host: string;
  readonly amqpPort: number;
  readonly httpPort: number;
  readonly connections: number;
  /** This node has a working link to it (always true for itself). */
  readonly linked: boolean;
}

/** What a cluster node did since it started (/metrics). */
export interface ClusterFigures {
  readonly nodesDeclaredDead: number;
  readonly queuesTakenOver: number;
  readonly queuesHandedOver: number;
  /** Group commits of replicated queues' messages, and the rows they inserted. */
  readonly replicatedRounds: number;
  readonly replicatedRowsWritten: number;
}

/** The cluster as the management API shows it (absent for a single broker). */
export interface ClusterView {
  readonly clusterName: string;
  nodes(): readonly ClusterNodeInfo[];
  /** The owner node of a queue (RabbitMQ's `node` field). */
  ownerOf(vhost: string, queue: string): string;
  /** Whether the queue's messages are replicated (its `type` is then 'quorum'). */
  isReplicated(queueArguments: unknown): boolean;
  /** Queues each node owns. */
  queuesOwned(): ReadonlyMap<string, number>;
  /** This node's cluster counters since it started. */
  figures(): ClusterFigures;
  /** Moves replicated queues to where the hash puts them among the living nodes; returns the moves. */
  rebalance(): Promise<readonly { queue: string; vhost: string; from: string; to: string }[]>;
}

export type { ShovelRow } from '../session/views.js';

/** One federation link as /api/federation-links shows it (RabbitMQ's shape, already redacted). */
export type FederationLinkRow = Readonly<Record<string, unknown>> & { readonly vhost: string; readonly status: string };

/** Shovels and federation links of this broker (absent when the server runs none). */
export interface LinksView {
  shovels(): readonly ShovelRow[];
  /** Restarts one shovel; false if there is none of that name. */
  restartShovel(vhost: string, name: string): boolean;
  federationLinks(): readonly FederationLinkRow[];
}

/** Everything a route handler may use: the broker's state and the node's identity. One per HttpServer. */
export interface ManagementContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  /** Live connections of every front door. */
  connections(): Iterable<ConnectionView>;
  listeners(): ListenerInfo[];
  /** Alarm state; a server without alarms (a bare HttpServer in tests) reports none raised. */
  alarms(): AlarmStatus;
  readonly rates: RateSampler;
  /** RabbitMQ-style node name, e.g. "warren@myhost" (a cluster node's --node-name). */
  readonly nodeName: string;
  readonly cluster: ClusterView | undefined;
  /** Shovels and federation links (src/shovel, src/federation), when the server has them. */
  readonly links: LinksView | undefined;
  /** Push queues' delivery state (src/push), for GET /api/push; absent: no push service. */
  readonly pushStates?: () => readonly object[];
  readonly startedAt: number;
  /** Where disk free space is measured (the data directory). */
  readonly dataDir: string;
  /** Owner of exclusive queues declared through the API, and identity for access checks. */
  readonly owner: SessionOwner;
  readonly logger: Logger;
}
