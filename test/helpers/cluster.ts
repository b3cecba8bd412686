/**
 * Warren cluster nodes as child processes of a test (the real CLI, `warren server --cluster ...`), on a
 * throwaway PostgreSQL from helpers/postgres.ts: start, kill -9, pause (SIGSTOP) and resume, restart
 * on the same data dir and name, HTTP API calls. Everything started is killed and removed by `cleanup`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { cleanEnvironment, runCli, type CliProcess } from '../integration/cli/process.js';
import { postgresForFile, type TestPostgres } from './postgres.js';

const AMQP_LISTENING = /AMQP listening on (\S+):(\d+)/;
const HTTP_LISTENING = /HTTP listening on (\S+):(\d+)/;

export interface NodeOptions {
  /** Short leases make tests of paused nodes quick. */
  leaseMs?: number;
  heartbeatMs?: number;
  defaultQueueType?: 'classic' | 'quorum';
  /** YAML appended to each node's config file (e.g. door sections: `mqtt:\n  port: 0\n`). */
  extraConfig?: string;
}

export class TestClusterNode {
  cli!: CliProcess;
  /** Output of earlier runs of this node (restarts), for failure messages. */
  private history = '';

  constructor(
    readonly name: string,
    readonly databaseUrl: string,
    readonly dataDir: string,
    private readonly configFile: string,
  ) {}

  /** The latest ports the process announced (a fenced node starts again, on new ports when they were 0). */
  get amqpPort(): number {
    return this.latestPort(AMQP_LISTENING);
  }

  get httpPort(): number {
    return this.latestPort(HTTP_LISTENING);
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  /** The port a door announced ("<label> listening on host:port", e.g. 'MQTT', 'STOMP'). */
  doorPort(label: string): number {
    return this.latestPort(new RegExp(`${label} listening on (\\S+):(\\d+)`));
  }

  private latestPort(pattern: RegExp): number {
    const all = [...this.cli.stdout().matchAll(new RegExp(pattern.source, 'g'))];
    return Number(all.at(-1)?.[2] ?? 0);
  }

  get running(): boolean {
    return this.cli.child.exitCode === null && this.cli.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.cli !== undefined) this.history += this.cli.stdout() + this.cli.stderr();
    this.cli = runCli(
      ['server', '--config', this.configFile, '--cluster', this.databaseUrl, '--node-name', this.name, '--amqp-host', '127.0.0.1', '--amqp-port', '0',
        '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', this.dataDir, '--log-level', 'info'],
      cleanEnvironment(),
    );
    await this.cli.waitForOutput(AMQP_LISTENING, 30_000);
    await this.cli.waitForOutput(HTTP_LISTENING, 30_000);
    // The node has joined once it listens; it links to its peers within a heartbeat.
  }

  kill(): Promise<number | string> {
    this.cli.kill();
    return this.cli.exited;
  }

  pause(): void {
    this.cli.child.kill('SIGSTOP');
  }

  resume(): void {
    this.cli.child.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.cli.child.kill('SIGTERM');
    await this.cli.exited;
  }

  output(): string {
    return this.history + (this.cli?.stdout() ?? '') + (this.cli?.stderr() ?? '');
  }

  /** The owner of a queue of vhost / as this node sees it (the `node` field of /api/queues). */
  async ownerOf(queue: string): Promise<string> {
    return (await this.api<{ node: string }>('GET', `/api/queues/%2F/${encodeURIComponent(queue)}`)).node;
  }

  /** The management API of this node as guest. */
  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** A set of nodes on one database, with one temp dir for all of them. */
export class TestCluster {
  readonly nodes: TestClusterNode[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), 'warren-cluster-'));

  constructor(
    /** Set before the first node starts (linkedClusterForFile sets it in before()). */
    public databaseUrl: string,
    private readonly options: NodeOptions = {},
  ) {}

  /** Starts `count` nodes and waits until each is linked to every other. */
  async startLinked(count: number): Promise<void> {
    await this.startNodes(count);
    await waitForMembers(this.nodes, count);
  }

  async startNodes(count: number): Promise<TestClusterNode[]> {
    const started: TestClusterNode[] = [];
    for (let i = 0; i < count; i++) started.push(await this.startNode(`n${this.nodes.length + 1}`));
    return started;
  }

  async startNode(name: string, options: NodeOptions = {}): Promise<TestClusterNode> {
    const merged = { leaseMs: 3000, heartbeatMs: 500, ...this.options, ...options };
    const configFile = join(this.root, `${name}.yaml`);
    writeFileSync(
      configFile,
      `cluster:\n  url: ${JSON.stringify(this.databaseUrl)}\n  leaseMs: ${merged.leaseMs}\n  heartbeatMs: ${merged.heartbeatMs}\n` +
        (merged.defaultQueueType === undefined ? '' : `  defaultQueueType: ${merged.defaultQueueType}\n`) +
        (merged.extraConfig ?? ''),
    );
    const node = new TestClusterNode(name, this.databaseUrl, join(this.root, name), configFile);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  node(name: string): TestClusterNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no node ${name}`);
    return node;
  }

  /**
   * An AMQP connection that does not outlive the test's nodes. amqplib tidies a connection whose socket
   * ended (heartbeat timers, the socket) only after emitting 'error': with no listener that throws
   * first, and the timers keep the test file's process alive for ever once a test failed half-way.
   */
  async connect(url: string): Promise<amqp.ChannelModel> {
    const connection = await amqp.connect(url);
    connection.on('error', () => undefined);
    return connection;
  }

  async cleanup(): Promise<void> {
    for (const node of this.nodes) {
      if (node.cli === undefined) continue;
      node.resume();
      node.cli.kill();
      await node.cli.exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Waits until every node lists `count` nodes as running and linked to it (links come up within a heartbeat). */
export async function waitForMembers(nodes: readonly TestClusterNode[], count: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const node of nodes) {
    for (;;) {
      const listed = await node.api<{ name: string; running: boolean; linked: boolean }[]>('GET', '/api/nodes').catch(() => []);
      if (listed.filter((n) => n.running && n.linked).length >= count) break;
      if (Date.now() > deadline) throw new Error(`${node.name} does not list ${count} running nodes: ${JSON.stringify(listed)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A cluster of `count` nodes on a fresh database of the file's PostgreSQL, every node linked to every other. */
export async function startLinkedCluster(pg: TestPostgres, count: number, options: NodeOptions = {}): Promise<TestCluster> {
  const cluster = new TestCluster(await pg.freshDatabase(), options);
  await cluster.startLinked(count);
  return cluster;
}

/**
 * For a test file (call it at the top level): its throwaway PostgreSQL and a cluster of `count` linked
 * nodes on a fresh database, started in before() and removed in after(). Its tests take
 * `{ skip: pg.skip }`: nothing starts when PostgreSQL is missing.
 */
export function linkedClusterForFile(count: number, options: NodeOptions = {}): { pg: TestPostgres; cluster: TestCluster } {
  const pg = postgresForFile();
  const cluster = new TestCluster('', options);
  before(async () => {
    if (pg.skip) return;
    cluster.databaseUrl = await pg.freshDatabase();
    await cluster.startLinked(count);
  });
  after(() => cluster.cleanup());
  return { pg, cluster };
}
