/**
 * Warren cluster nodes for bench/cluster.ts: `node dist/src/cli/main.js server --cluster <url>
 * --node-name nX ...` as child processes of the bench on ephemeral ports (read from their "AMQP
 * listening on" and "HTTP listening on" log lines), kill -9 and restart on the same data dir, the
 * management API and /metrics. Every node started here is killed and its data dir removed by
 * `BenchCluster.close()`; nothing else is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds } from '../harness/brokers.js';

const WARREN_MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const AMQP_LISTENING = /AMQP listening on [^\s"]*:(\d+)/;
const HTTP_LISTENING = /HTTP listening on [^\s"]*:(\d+)/;
const START_TIMEOUT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The environment without WARREN_* variables: the developer's own settings must not change the bench. */
function benchEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('WARREN_')) env[name] = value;
  return env;
}

export interface QueueInfo {
  name: string;
  node: string;
  type?: string;
  messages?: number;
}

export interface NodeInfo {
  name: string;
  running: boolean;
  linked?: boolean;
}

export class BenchNode {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** The latest output lines of the current run (for error messages). */
  private lines: string[] = [];
  amqpPort = 0;
  httpPort = 0;

  constructor(
    readonly name: string,
    private readonly databaseUrl: string,
    readonly dataDir: string,
    /** Arguments for node itself (e.g. --cpu-prof), before the CLI's path. */
    private readonly nodeArgs: readonly string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  /** Starts the node (again, after kill9: same name and data dir) and resolves once both listeners are up. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    mkdirSync(this.dataDir, { recursive: true });
    this.lines = [];
    this.amqpPort = 0;
    this.httpPort = 0;
    const child = spawn(
      process.execPath,
      [...this.nodeArgs, WARREN_MAIN, 'server', '--cluster', this.databaseUrl, '--node-name', this.name, '--amqp-host', '127.0.0.1', '--amqp-port', '0',
        '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', this.dataDir, '--log-level', 'info'],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: this.dataDir, env: benchEnvironment() },
    );
    this.child = child;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start in ${START_TIMEOUT_MS} ms:\n${this.output()}`)), START_TIMEOUT_MS);
      const onLine = (line: string): void => {
        this.lines.push(line);
        if (this.lines.length > 400) this.lines.splice(0, 200);
        const amqp = AMQP_LISTENING.exec(line);
        if (amqp !== null) this.amqpPort = Number(amqp[1]);
        const http = HTTP_LISTENING.exec(line);
        if (http !== null) this.httpPort = Number(http[1]);
        if (this.amqpPort !== 0 && this.httpPort !== 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      // Both streams are drained for the node's whole life: a full pipe would stall it.
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${child.exitCode ?? child.signalCode}) while starting:\n${this.output()}`));
      });
    });
    await listening;
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. Returns when the signal was sent (performance.now()). */
  async kill9(): Promise<number> {
    const child = this.child;
    if (child === undefined || !this.running) throw new Error(`${this.name} is not running`);
    const at = performance.now();
    child.kill('SIGKILL');
    await this.exited;
    return at;
  }

  /** SIGSTOP: the process keeps its sockets but does nothing (a long GC pause, a frozen VM). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** SIGTERM (a clean leave), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  output(): string {
    return this.lines.slice(-40).join('\n');
  }

  cpuSeconds(): number | undefined {
    return cpuSeconds(this.pid);
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}${path}`, {
      method,
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${this.name}: ${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** The queue as this node lists it, or undefined while it does not know it. */
  async queue(name: string): Promise<QueueInfo | undefined> {
    try {
      return await this.api<QueueInfo>('GET', `/api/queues/%2F/${encodeURIComponent(name)}`);
    } catch (error) {
      if (/: 404 /.test((error as Error).message)) return undefined;
      throw error;
    }
  }

  /** The named counters of this node's /metrics (Prometheus text; unlabelled samples only). */
  async metrics(names: readonly string[]): Promise<Record<string, number>> {
    const response = await fetch(`http://127.0.0.1:${this.httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    const values: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const [metric, value] = line.split(' ');
      if (metric !== undefined && value !== undefined && names.includes(metric)) values[metric] = Number(value);
    }
    return values;
  }
}

/** N nodes on one database, their data dirs under one temp dir. */
export class BenchCluster {
  readonly nodes: BenchNode[] = [];
  private readonly root = mkdtempSync(join(tmpdir(), 'warren-bench-cluster-'));

  constructor(
    private readonly databaseUrl: string,
    private readonly nodeArgs: readonly string[] = [],
  ) {}

  async addNode(): Promise<BenchNode> {
    const name = `n${this.nodes.length + 1}`;
    const node = new BenchNode(name, this.databaseUrl, join(this.root, name), this.nodeArgs);
    this.nodes.push(node);
    await node.start();
    return node;
  }

  node(name: string): BenchNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new Error(`no node ${name} in this cluster`);
    return node;
  }

  get living(): BenchNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /** Until every running node lists every running node as running and linked. */
  async waitForMembers(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const living = this.living;
    for (const node of living) {
      for (;;) {
        const listed = await node.api<NodeInfo[]>('GET', '/api/nodes').catch(() => [] as NodeInfo[]);
        const ok = living.every((l) => listed.some((n) => n.name === l.name && n.running && n.linked !== false));
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`${node.name} does not list ${living.map((l) => l.name).join(', ')} as running and linked: ${JSON.stringify(listed)}`);
        await sleep(100);
      }
    }
  }

  /** Until every running node knows the queue; returns its owner's name as the first node reports it. */
  async waitForQueue(queue: string, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let owner: string | undefined;
    for (const node of this.living) {
      for (;;) {
        const info = await node.queue(queue);
        if (info !== undefined && info.node !== undefined && info.node !== '') {
          owner ??= info.node;
          break;
        }
        if (Date.now() > deadline) throw new Error(`${node.name} does not know queue ${queue} after ${timeoutMs} ms`);
        await sleep(50);
      }
    }
    if (owner === undefined) throw new Error(`no running node to ask about ${queue}`);
    return owner;
  }

  /** Sum of the named /metrics counters over the running nodes. */
  async metricsSum(names: readonly string[]): Promise<Record<string, number>> {
    const sum: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
    for (const node of this.living) {
      const values = await node.metrics(names);
      for (const n of names) sum[n] = (sum[n] ?? 0) + (values[n] ?? 0);
    }
    return sum;
  }

  /** CPU seconds of the running nodes together. */
  cpuSeconds(): number {
    return this.living.reduce((s, n) => s + (n.cpuSeconds() ?? 0), 0);
  }

  /** Kills every node started here (SIGTERM, then SIGKILL) and removes their data. */
  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop().catch(() => undefined)));
    rmSync(this.root, { recursive: true, force: true });
  }
}

const CLOCK_TICKS_PER_S = 100;

/**
 * CPU seconds used by a PostgreSQL server: its postmaster (utime+stime, plus cutime+cstime: the
 * backends that already exited) and its living children (utime+stime). Deltas of this figure
 * are the server's CPU over an interval even when backends come and go.
 */
export function postgresCpuSeconds(postmasterPid: number | undefined): number | undefined {
  if (postmasterPid === undefined) return undefined;
  const own = statFields(postmasterPid);
  if (own === undefined) return undefined;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields === undefined || Number(fields[1]) !== postmasterPid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / CLOCK_TICKS_PER_S;
}

/** /proc/<pid>/stat fields after the command name: [0] is state, [1] ppid, [11] utime, [12] stime, [13] cutime, [14] cstime. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
