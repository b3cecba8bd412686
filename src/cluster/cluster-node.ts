import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { DurabilityBarrier } from '../broker/durability.js';
import type { MessageHeaderCodec } from '../broker/persistence/message-header.js';
import type { Queue } from '../broker/queue.js';
import type { RemoteOwner } from '../broker/queue/remote-owner.js';
import type { ClusterConfig } from '../config/types.js';
import { applyDefinitionChanges } from './definitions/apply-changes.js';
import { ClusterDefinitions } from './definitions/cluster-definitions.js';
import { ClusterDatabase } from './db/database.js';
import { migrateSchema } from './db/schema.js';
import { LINK_MAGIC } from './link/codec.js';
import { LinkConnection } from './link/connection.js';
import { LinkDirectory, type PeerAddress } from './link/link-directory.js';
import { OwnerSession } from './link/owner-session.js';
import { Membership, type NodeRecord } from './membership.js';
import { OwnershipTable, type QueueOwnership } from './ownership.js';
import { placementKey } from './placement.js';
import { RemoteQueue } from './remote-queue.js';
import { ReplicatedStore } from './replicated/replicated-store.js';
import { StatsBroadcast } from './stats-broadcast.js';
import { isReplicatedQueue } from './queue-type.js';

export interface ClusterNodeEvents {
  /** This node was declared dead (paused, cut off): it must drop its clients and rejoin. */
  fenced(reason: Error): void;
  /** Writes of replicated queues stopped (true) or resumed (false): publishers are blocked meanwhile. */
  databaseAlarm(raised: boolean): void;
}

/** The addresses this node serves at, once its listeners are up. */
export interface NodePorts {
  readonly amqpPort: number;
  readonly httpPort: number;
  readonly linkPort: number;
}

/**
 * One cluster node: the composition of everything in src/cluster (ARCHITECTURE.md "Cluster"). Built
 * before the broker (it provides the broker's definitions store and the replicated message store),
 * joined before the broker starts (so definitions load from PostgreSQL), attached once the broker runs
 * (it then keeps definitions, ownership and membership current, runs the node links, and moves queues
 * when nodes die). An object like any other: a test may run three in one process.
 */
export class ClusterNode {
  readonly db: ClusterDatabase;
  readonly membership: Membership;
  readonly definitions: ClusterDefinitions;
  readonly replicated: ReplicatedStore;
  readonly ownership: OwnershipTable;
  private links: LinkDirectory | undefined;
  private readonly sessions = new Set<OwnerSession>();
  private readonly remotes = new Map<string, RemoteQueue>();
  private nodesCache: NodeRecord[] = [];
  private readonly livingListeners = new Set<(living: readonly string[]) => void>();
  private secret = '';
  private broker: Broker | undefined;
  private users: UserRegistry | undefined;
  private headers: MessageHeaderCodec | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ownershipTimer: NodeJS.Timeout | undefined;
  private stats: StatsBroadcast | undefined;
  /** Leases of others are judged only after the database has answered for a whole lease (a restart of it must not look like every node dying). */
  private databaseHealthySince = Date.now();
  private databaseDown = false;
  private stopped = false;
  /** Since this node started, for /metrics. */
  private readonly counters = { nodesDeclaredDead: 0, queuesTakenOver: 0, queuesHandedOver: 0 };

  constructor(
    readonly config: ClusterConfig,
    dataDir: string,
    private readonly logger: Logger,
    private readonly events: ClusterNodeEvents,
  ) {
    this.db = new ClusterDatabase(config.url, logger, {
      applicationName: `warren ${config.nodeName}`,
      idleInTransactionMs: Math.max(1000, Math.floor(config.leaseMs / 2)),
    });
    this.membership = new Membership(
      this.db,
      { nodeName: config.nodeName, uid: nodeUid(dataDir), address: { host: config.advertiseHost, linkPort: 0, amqpPort: 0, httpPort: 0 }, leaseMs: config.leaseMs },
      logger,
    );
    this.ownership = new OwnershipTable(
      this.db,
      config.nodeName,
      { ownerChanged: (row, previous) => this.ownerChanged(row, previous), handOverRequested: (row) => void this.handOver(row) },
      logger,
    );
    this.definitions = new ClusterDefinitions(
      this.db,
      config.nodeName,
      {
        queuePut: (client, vhost, name, value) => this.ownership.queuePut(client, vhost, name, isReplicatedQueue(value, config.defaultQueueType)),
        queueDeleted: (client, vhost, name) => this.ownership.queueDeleted(client, vhost, name),
      },
      this.membership,
      logger,
    );
    this.replicated = new ReplicatedStore(
      this.db,
      this.membership,
      {
        availability: (available) => this.events.databaseAlarm(!available),
        fenced: (error) => this.fence(error),
      },
      logger,
    );
  }

  get nodeName(): string {
    return this.config.nodeName;
  }

  /** Connects, creates or migrates the schema and joins as a new incarnation. Throws what a user must fix. */
  async join(): Promise<void> {
    await this.db.checkReachable();
    this.secret = (await migrateSchema(this.db)).secret;
    await this.membership.join();
    this.setNodes(await this.membership.nodes());
    await this.ownership.refresh();
  }

  /** The living nodes' names, as last read. */
  livingNodes(): string[] {
    return this.nodesCache.filter((node) => node.alive).map((node) => node.name);
  }

  /** Calls `listener` whenever the set of living nodes changes (a node joined, left or was declared dead). */
  onLivingNodesChange(listener: (living: readonly string[]) => void): () => void {
    this.livingListeners.add(listener);
    return () => this.livingListeners.delete(listener);
  }

  private setNodes(nodes: NodeRecord[]): void {
    const before = this.livingNodes().sort().join('\u0000');
    this.nodesCache = nodes;
    const living = this.livingNodes();
    if ([...living].sort().join('\u0000') === before) return;
    for (const listener of this.livingListeners) listener(living);
  }

  /** Every node's row, as last read (for /api/nodes and `warren ctl cluster status`). */
  nodes(): readonly (NodeRecord & { readonly running: boolean; readonly linked: boolean })[] {
    return this.nodesCache.map((node) => ({
      ...node,
      running: node.alive,
      linked: node.name === this.nodeName || (node.alive && this.links?.linkTo(node.name) !== undefined),
    }));
  }

  /** The cluster's name in listings: the database it lives in. */
  get clusterName(): string {
    return `warren@${new URL(this.config.url).pathname.slice(1) || 'cluster'}`;
  }

  queuesOwned(): ReadonlyMap<string, number> {
    return this.ownership.counts();
  }

  /** What this node did since it started, for /metrics (counters only grow). */
  figures() {
    return { ...this.counters, replicatedRounds: this.replicated.rounds, replicatedRowsWritten: this.replicated.rowsWritten };
  }

  /** How many client connections this node serves (recorded with each lease renewal). */
  connectionCount: () => number = () => 0;

  // ---- the broker's hooks -------------------------------------------------------------------------

  /** Where a queue's messages are stored: replicated (quorum) queues in PostgreSQL. */
  isReplicated(queueArguments: unknown): boolean {
    return isReplicatedQueue({ arguments: queueArguments }, this.config.defaultQueueType);
  }

  /** A queue was created on this node: served from its owner unless that is this node. */
  remoteOwnerFor(queue: Queue): RemoteOwner | undefined {
    if (queue.exclusiveOwner !== undefined || queue.isDirectReplyTo) return undefined;
    const replicated = this.isReplicated(queue.arguments);
    const owner = this.ownership.place(queue.vhost.name, queue.name, replicated, this.livingNodes());
    if (owner === this.nodeName) return undefined;
    return this.remoteFor(queue, owner);
  }

  /** The owner's name of a queue (the `node` field of /api/queues). */
  ownerOf(vhost: string, name: string): string {
    return this.ownership.ownerOf(vhost, name) ?? this.nodeName;
  }

  // ---- running --------------------------------------------------------------------------------

  /**
   * The broker is running: definitions from other nodes are applied from now on, replicated queues owned
   * here are loaded, links open, leases are kept.
   */
  async attach(broker: Broker, users: UserRegistry, headers: MessageHeaderCodec, ports: NodePorts): Promise<void> {
    this.broker = broker;
    this.users = users;
    this.headers = headers;
    await this.db.query(`UPDATE warren_nodes SET link_port = $3, amqp_port = $4, http_port = $5 WHERE name = $1 AND incarnation = $2`, [
      this.nodeName,
      this.membership.incarnation,
      ports.linkPort,
      ports.amqpPort,
      ports.httpPort,
    ]);
    for (const row of this.ownership.ownedHere()) if (row.replicated) await this.loadReplicated(row);
    this.links = new LinkDirectory(
      { self: { node: this.nodeName, incarnation: this.membership.incarnation }, secret: this.secret, silenceMs: this.config.leaseMs, headers, logger: this.logger },
      { up: (peer) => this.linkUp(peer), down: (peer, refused) => this.linkDown(peer, refused) },
    );
    this.stats = new StatsBroadcast(broker, () => this.sessions, this.nodeName, (vhost, name) => this.ownerOf(vhost, name));
    this.stats.start(Math.min(1000, this.config.heartbeatMs));
    this.definitions.startPolling(Math.min(250, this.config.heartbeatMs), (changes) => void this.applyChanges(changes));
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.config.heartbeatMs);
    this.heartbeatTimer.unref();
    this.ownershipTimer = setInterval(() => void this.refreshOwnership(), Math.min(250, this.config.heartbeatMs));
    this.ownershipTimer.unref();
    await this.refreshNodes();
  }

  /** The node-to-node link acceptor, for the AMQP listener's shared port or a link port of its own. */
  readonly linkAcceptor = { magic: LINK_MAGIC, accept: (socket: Socket): void => this.acceptLink(socket) };

  /** A clean stop: this node leaves (its replicated queues move now, not after the lease). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.membership.incarnation === 0) return this.db.close(); // never joined: nothing to leave
    clearInterval(this.heartbeatTimer);
    clearInterval(this.ownershipTimer);
    this.definitions.stop();
    this.stats?.stop();
    this.links?.stop();
    for (const session of this.sessions) session.close();
    await this.replicated.close();
    await this.definitions.flushNow().catch(() => undefined);
    await this.membership
      .leave((client) => this.ownership.moveQueuesOf(client, this.nodeName, this.livingNodes()).then(() => undefined))
      .catch((error: Error) => this.logger.warn({ err: error }, `could not leave the cluster cleanly: ${error.message}`));
    await this.db.close();
  }

  // ---- membership -------------------------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    let renewed: boolean;
    try {
      renewed = await this.membership.renewLease(this.connectionCount());
    } catch (error) {
      if (!this.databaseDown) this.logger.warn({ err: error }, `cannot renew the lease: ${(error as Error).message}`);
      this.databaseDown = true;
      return;
    }
    if (this.databaseDown) {
      this.databaseDown = false;
      this.databaseHealthySince = Date.now();
      this.logger.info('the cluster database answers again');
    }
    if (!renewed) return this.fence(new Error(`node ${this.nodeName} was declared dead by the cluster`));
    await this.refreshNodes();
    if (Date.now() - this.databaseHealthySince < this.config.leaseMs) return;
    for (const node of this.nodesCache) {
      if (node.alive && !node.leased && node.name !== this.nodeName) await this.declareDead(node, true);
    }
  }

  private async refreshNodes(): Promise<void> {
    try {
      this.setNodes(await this.membership.nodes());
    } catch {
      return;
    }
    const peers: PeerAddress[] = this.nodesCache
      .filter((node) => node.alive && node.linkPort !== 0)
      .map((node) => ({ name: node.name, incarnation: node.incarnation, host: node.host, linkPort: node.linkPort }));
    this.links?.setPeers(peers);
  }

  private async declareDead(node: NodeRecord, onlyIfLapsed: boolean): Promise<void> {
    try {
      const living = this.livingNodes().filter((name) => name !== node.name);
      const won = await this.membership.declareDead(node.name, node.incarnation, onlyIfLapsed, async (client) => {
        await this.ownership.moveQueuesOf(client, node.name, living);
      });
      if (won) {
        this.counters.nodesDeclaredDead++;
        await this.refreshNodes();
        await this.refreshOwnership();
      }
    } catch (error) {
      this.logger.warn({ err: error, node: node.name }, `declaring ${node.name} dead failed: ${(error as Error).message}`);
    }
  }

  private fence(reason: Error): void {
    if (this.stopped) return;
    this.logger.error({ err: reason }, `fenced: ${reason.message}; dropping clients and rejoining`);
    this.events.fenced(reason);
  }

  // ---- links ------------------------------------------------------------------------------------

  private acceptLink(socket: Socket): void {
    const connection = new LinkConnection(socket, { secret: this.secret, self: { node: this.nodeName, incarnation: this.membership.incarnation }, silenceMs: this.config.leaseMs, logger: this.logger }, false);
    // A socket handed over by the AMQP listener's sniffing is paused, its first bytes put back.
    socket.resume();
    connection.ready.then(
      () => {
        const broker = this.broker;
        if (broker === undefined || this.stopped) return connection.close();
        const session = new OwnerSession(connection, {
          owned: (vhost, name) => this.ownedQueue(vhost, name),
          extraBarrier: (queue) => this.extraBarrier(queue),
          broker: broker as DurabilityBarrier,
          headers: this.headers!,
          logger: this.logger,
        });
        this.sessions.add(session);
        connection.onClose(() => this.sessions.delete(session));
      },
      () => undefined,
    );
  }

  private linkUp(peer: PeerAddress): void {
    this.logger.info({ peer: peer.name, incarnation: peer.incarnation }, `link to ${peer.name} up`);
    for (const remote of this.remotes.values()) if (remote.ownerName === peer.name) remote.linkUp();
  }

  /** A link broke; refused reconnects mean the process is gone: it is declared dead at once. */
  private linkDown(peer: PeerAddress, refused: boolean): void {
    this.logger.info({ peer: peer.name, incarnation: peer.incarnation, refused }, `link to ${peer.name} down`);
    if (!refused || this.stopped) return;
    const node = this.nodesCache.find((n) => n.name === peer.name && n.incarnation === peer.incarnation && n.alive);
    if (node !== undefined) void this.declareDead(node, false);
  }

  // ---- ownership --------------------------------------------------------------------------------

  /** The queue, if this node owns it; a peer asking for one it does not may know of a move this node has not read yet. */
  private ownedQueue(vhost: string, name: string): Queue | undefined {
    const queue = this.broker?.getVhost(vhost)?.getQueue(name);
    if (queue !== undefined && queue.remoteOwner === undefined) return queue;
    this.refreshOwnershipNow();
    return undefined;
  }

  private extraBarrier(queue: Queue): DurabilityBarrier | undefined {
    return this.isReplicated(queue.arguments) ? this.replicatedBarrier : undefined;
  }

  /** The replicated store as a durability barrier (it never reports a loss: it fails closed or retries). */
  readonly replicatedBarrier: DurabilityBarrier = { whenDurable: (callback) => this.replicated.whenDurable(() => callback()) };

  private remoteFor(queue: Queue, owner: string): RemoteQueue {
    const key = placementKey(queue.vhost.name, queue.name);
    let remote = this.remotes.get(key);
    if (remote === undefined) {
      remote = new RemoteQueue(queue, owner, { linkTo: (node) => this.links?.linkTo(node), ownerInDoubt: () => this.refreshOwnershipNow() });
      this.remotes.set(key, remote);
    } else remote.retarget(owner);
    return remote;
  }

  private async refreshOwnership(): Promise<void> {
    if (this.stopped) return;
    await this.ownership.refresh().catch(() => undefined);
  }

  private refreshingNow: Promise<void> | undefined;
  private lastRefreshNow = 0;

  /**
   * Reads the ownership table now rather than at the next poll (one read at a time, at most one per
   * 20 ms however many peers ask): during a failover the forwarding node, the new owner and the node
   * that made the move learn of it at different polls, and each poll missed is up to 250 ms of
   * publishes nacked.
   */
  private refreshOwnershipNow(): void {
    if (this.refreshingNow !== undefined || Date.now() - this.lastRefreshNow < 20) return;
    this.lastRefreshNow = Date.now();
    this.refreshingNow = this.refreshOwnership().finally(() => (this.refreshingNow = undefined));
  }

  /** An owner changed: a queue comes here (loaded from PostgreSQL), or is served from elsewhere. */
  private ownerChanged(row: QueueOwnership, previous: string | undefined): void {
    const queue = this.broker?.getVhost(row.vhost)?.getQueue(row.name);
    if (queue === undefined) return;
    const key = placementKey(row.vhost, row.name);
    if (row.owner === this.nodeName) {
      if (queue.remoteOwner === undefined) return;
      this.logger.info({ queue: row.name, vhost: row.vhost, from: previous }, `taking over queue '${row.name}' from ${previous ?? '?'}`);
      queue.takeOwnership();
      this.counters.queuesTakenOver++;
      this.remotes.delete(key);
      if (row.replicated) void this.loadReplicated(row);
      return;
    }
    if (queue.remoteOwner === undefined) {
      // Another node owns what this node served (its declaration won, or it was moved away): hand over.
      this.replicated.forget(JSON.stringify([row.vhost, row.name]));
      queue.serveFrom(this.remoteFor(queue, row.owner));
      return;
    }
    this.remoteFor(queue, row.owner);
  }

  /**
   * `warren ctl cluster rebalance`: replicated queues move to where the hash puts them among the living
   * nodes (a node that came back gets its share again). Each owner hands its queues over itself.
   */
  async rebalance(): Promise<{ queue: string; vhost: string; from: string; to: string }[]> {
    await this.refreshNodes();
    return this.ownership.requestRebalance(this.livingNodes());
  }

  private readonly handingOver = new Set<string>();

  /**
   * A rebalance asks this owner to give a queue to `row.movingTo` without losing anything: from now on
   * its messages are forwarded there (refused there until it owns the queue: publishers are nacked and
   * re-send), what this node accepted is committed, then the row names the new owner, which loads the
   * queue from PostgreSQL (deliveries still unacked here come back redelivered there).
   */
  private async handOver(row: QueueOwnership): Promise<void> {
    const to = row.movingTo;
    const key = placementKey(row.vhost, row.name);
    const queue = this.broker?.getVhost(row.vhost)?.getQueue(row.name);
    if (to === undefined || queue === undefined || this.handingOver.has(key)) return;
    this.handingOver.add(key);
    try {
      if (queue.remoteOwner === undefined) queue.serveFrom(this.remoteFor(queue, to));
      await new Promise<void>((resolve) => this.replicatedBarrier.whenDurable(() => resolve()));
      const moved = await this.db.transaction(async (client) => {
        await this.membership.assertCurrent(client);
        return this.ownership.completeMove(client, row.vhost, row.name, to);
      });
      if (moved) {
        this.counters.queuesHandedOver++;
        this.logger.info({ queue: row.name, vhost: row.vhost, to }, `handed queue '${row.name}' over to ${to}`);
      }
      await this.refreshOwnership();
    } catch (error) {
      this.logger.warn({ err: error, queue: row.name }, `handing '${row.name}' over to ${to} failed: ${(error as Error).message}`);
    } finally {
      this.handingOver.delete(key);
    }
  }

  /** A replicated queue owned here: its messages come from PostgreSQL (delivered ones redelivered). */
  private async loadReplicated(row: QueueOwnership): Promise<void> {
    const queue = this.broker?.getVhost(row.vhost)?.getQueue(row.name);
    if (queue === undefined) return;
    try {
      const recovered = await this.replicated.recover(JSON.stringify([row.vhost, row.name]));
      await queue.restoreStored(recovered.handles, recovered.delivered);
      queue.finishRestore();
    } catch (error) {
      this.logger.error({ err: error, queue: row.name }, `loading replicated queue '${row.name}' failed: ${(error as Error).message}`);
    }
  }

  // ---- definitions ------------------------------------------------------------------------------

  private async applyChanges(changes: Parameters<typeof applyDefinitionChanges>[2]): Promise<void> {
    const broker = this.broker;
    const users = this.users;
    if (broker === undefined || users === undefined) return;
    // New queues get their owner from the table, which the same transaction wrote.
    if (changes.some((change) => change.kind === 'queue')) await this.ownership.refresh().catch(() => undefined);
    this.definitions.applying(() => applyDefinitionChanges(broker, users, changes, this.logger));
  }
}

/** The identity of this data dir (two nodes of one name from two dirs are two nodes). */
function nodeUid(dataDir: string): string {
  const path = join(dataDir, 'cluster-node-uid');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    mkdirSync(dataDir, { recursive: true });
    const uid = randomUUID();
    writeFileSync(path, uid);
    return uid;
  }
}
