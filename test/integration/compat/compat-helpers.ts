/**
 * Plumbing for the compat suite: each test starts a Warren broker on an ephemeral port and runs a
 * real third-party AMQP client against it as a child process. Client scripts print `ok <step>` per
 * passed step and exit non-zero (with the client's own traceback) on any failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { startBroker, type StartBrokerOptions, type TestBroker } from '../../helpers/broker.js';

/** Debian's interpreter: an earlier python3 on PATH (pyenv) does not see the python3-* packages. */
export const PYTHON = '/usr/bin/python3';

/**
 * The client scripts stay in the source tree (tsc does not copy them), so walk up from this compiled
 * file (dist/test/... or .build/<name>/test/...) to the first folder that holds them.
 */
export const CLIENTS_DIR = findClientsDir();

function findClientsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'integration', 'compat', 'clients');
    if (existsSync(join(candidate, 'compat_check.py'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('compat client scripts not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Why a Python client test must skip (module not installed), or false when it can run. */
export function missingPythonModule(module: string, debianPackage: string): string | false {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (install ${debianPackage})`;
  const probe = spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 10_000 });
  return probe.status === 0 ? false : `python module ${module} not installed (apt-get install ${debianPackage})`;
}

/** Why a test needing these files must skip, or false when all exist. */
export function missingFiles(files: readonly string[], debianPackage: string): string | false {
  const missing = files.filter((file) => !existsSync(file));
  return missing.length === 0 ? false : `${missing.join(', ')} not found (apt-get install ${debianPackage})`;
}

/** Environment for client processes: no .pyc files written into the source tree. */
export function clientEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1', ...extra };
}

export interface ClientResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process was killed for running past its time limit. */
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long; the result then says timedOut. Default 30 s. */
  timeoutMs?: number;
  input?: string;
}

/** A running client process that a test can read while it runs and always kills in its cleanup. */
export class ClientProcess {
  readonly child: ChildProcess;
  readonly result: Promise<ClientResult>;
  private out = '';
  private err = '';
  private timedOut = false;

  constructor(command: string, args: readonly string[], options: RunOptions = {}) {
    this.child = spawn(command, args, {
      cwd: options.cwd ?? CLIENTS_DIR,
      env: options.env ?? clientEnvironment(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.out += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.err += chunk));
    this.child.stdin!.end(options.input ?? '');
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.kill();
    }, options.timeoutMs ?? 30_000);
    this.result = new Promise((resolve, reject) => {
      this.child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.out, stderr: this.err, timedOut: this.timedOut });
      });
    });
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  /** Resolves once stdout or stderr matches; rejects on timeout or if the process ends first. */
  async waitForOutput(pattern: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void this.result.finally(() => (ended = true)).catch(() => undefined);
    while (!pattern.test(this.out) && !pattern.test(this.err)) {
      if (ended) throw new Error(`process ended before ${pattern}\n${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms\n${this.describe()}`);
      await delay(50);
    }
  }

  describe(): string {
    return `--- stdout ---\n${this.out}\n--- stderr ---\n${this.err}`;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** Runs a client to completion; the process is killed when the test ends, whatever happened. */
export function runClient(t: TestContext, command: string, args: readonly string[], options?: RunOptions): Promise<ClientResult> {
  return startClient(t, command, args, options).result;
}

export function startClient(t: TestContext, command: string, args: readonly string[], options?: RunOptions): ClientProcess {
  const client = new ClientProcess(command, args, options);
  t.after(() => client.kill());
  return client;
}

/**
 * Asserts a clean exit and that every expected `ok <step>` line was printed, in order (so a step the
 * script silently skipped fails the test too). Returns each step's detail text.
 */
export function assertSteps(result: ClientResult, steps: readonly string[]): Map<string, string> {
  const transcript = `exit ${result.code ?? result.signal}${result.timedOut ? ' (timed out)' : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
  assert.equal(result.code, 0, `client failed: ${transcript}`);
  const passed = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('ok '))
    .map((line) => line.slice(3));
  const names = passed.map((line) => line.split(' ')[0]);
  assert.deepEqual(names, [...steps], `steps passed differ from the expected ones: ${transcript}`);
  return new Map(passed.map((line) => [line.split(' ')[0] ?? '', line.split(' ').slice(1).join(' ')]));
}

/** A broker for one test, closed when the test ends. */
export async function brokerFor(t: TestContext, options?: StartBrokerOptions): Promise<TestBroker> {
  const broker = await startBroker(options);
  t.after(() => broker.close());
  return broker;
}

/** Clients must leave by closing their connections: waits until Warren has none left. */
export async function assertAllConnectionsClosed(broker: TestBroker, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (broker.listener.amqpConnections.size > 0) {
    if (Date.now() > deadline) {
      assert.fail(`${broker.listener.amqpConnections.size} client connection(s) still open ${timeoutMs} ms after the client ended`);
    }
    await delay(20);
  }
}
