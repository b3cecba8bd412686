import { spawn, execFileSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

/**
 * Debian's RabbitMQ (3.10.8) as a real peer in tests: its own node name, AMQP, management,
 * distribution and epmd ports (never the defaults, so a RabbitMQ someone else runs is untouched),
 * its own data, log and cookie dir. Started from the package's own script, not the root wrapper
 * (which would switch to the rabbitmq user). Stopped by the PIDs it wrote: beam.smp and our epmd.
 */
const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** Why RabbitMQ tests cannot run here, or false. */
export const rabbitmqMissing: string | false = existsSync(SERVER) ? false : `${SERVER} is not installed (apt-get install rabbitmq-server)`;

export interface TestRabbit {
  /** amqp://guest:guest@127.0.0.1:<port> */
  url: string;
  port: number;
  httpPort: number;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Graceful stop of the node (data kept); `start()` brings it back on the same ports and data. */
  stop(): Promise<void>;
  /** kill -9 of the node (beam.smp), no shutdown at all; `start()` brings it back on the same ports and data. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stops the node and its epmd and removes its dir. */
  close(): Promise<void>;
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A node that did not come up: its start script's process group (spawned detached, so the group is
 * its own) and the beam process if it already listens, so a failed start leaves no node running.
 */
function killGroup(groupLeader: number | undefined, beam: number | undefined): void {
  for (const target of [groupLeader === undefined ? undefined : -groupLeader, beam]) {
    if (target === undefined) continue;
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The end of a node's console output, for an error message (the temp dir may be gone when it is read). */
function consoleTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'console.log'), 'utf8').trim().split('\n').slice(-15).join(' | ') || '(nothing)';
  } catch {
    return '(no console.log)';
  }
}

/** The PID listening on a TCP port of 127.0.0.1 (ss -ltnp), if any. */
function listenerPid(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export async function startRabbit(options: { plugins?: string[] } = {}): Promise<TestRabbit> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-rabbit-'));
  const [port, httpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const plugins = ['rabbitmq_management', ...(options.plugins ?? [])];
  await writeFile(join(dir, 'enabled_plugins'), `[${plugins.join(',')}].\n`);
  await writeFile(
    join(dir, 'rabbitmq.conf'),
    [`listeners.tcp.default = 127.0.0.1:${port}`, `management.tcp.port = ${httpPort}`, 'management.tcp.ip = 127.0.0.1', 'log.console = false', ''].join('\n'),
  );
  const node = `warren-test-${process.pid}-${port}@localhost`;
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };
  const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
  };
  let beam: number | undefined;

  const start = async (): Promise<void> => {
    const out = openSync(join(dir, 'console.log'), 'a');
    const child = spawn(SERVER, [], { env, cwd: dir, stdio: ['ignore', out, out], detached: true });
    child.unref();
    closeSync(out);
    // A loaded machine can take a minute to boot a node; past two, give up and leave nothing behind.
    const until = Date.now() + 120_000;
    // Ready when the management API answers (it starts after the AMQP listener and the plugins).
    while (!(await listening(httpPort)) || !(await listening(port))) {
      if (Date.now() > until) {
        killGroup(child.pid, listenerPid(port));
        throw new Error(`RabbitMQ did not start within 120 s (stopped); its console said: ${consoleTail(dir)}`);
      }
      if (child.exitCode !== null) throw new Error(`RabbitMQ exited with ${child.exitCode}; its console said: ${consoleTail(dir)}`);
      await sleep(200);
    }
    beam = Number(readFileSync(join(dir, 'pid'), 'utf8').trim()) || listenerPid(port);
  };

  const stop = async (): Promise<void> => {
    const pid = beam;
    beam = undefined;
    if (pid === undefined) return;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 150 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  };

  const kill = async (): Promise<void> => {
    const pid = beam;
    beam = undefined;
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    // Its port free again before a restart (the kernel closes the listener with the process).
    for (let i = 0; i < 100 && (await listening(port)); i++) await sleep(50);
  };

  try {
    await start();
  } catch (error) {
    await stop().catch(() => undefined);
    const epmd = listenerPid(epmdPort);
    if (epmd !== undefined) process.kill(epmd, 'SIGTERM');
    throw error;
  }
  return {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    httpPort,
    api,
    stop,
    kill,
    start,
    close: async () => {
      await stop();
      const epmd = listenerPid(epmdPort);
      if (epmd !== undefined) process.kill(epmd, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
