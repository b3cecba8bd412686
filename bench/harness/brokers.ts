/**
 * The brokers under test: a Warren child process started here, or any broker already listening
 * (RabbitMQ), plus the /proc readings (RSS, CPU time) of the broker's OS process.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface BrokerUnderTest {
  name: string;
  url: string;
  /** The OS process doing the broker's work (Warren's node, RabbitMQ's beam.smp), when known. */
  pid: number | undefined;
  stop(): Promise<void>;
}

const WARREN_MAIN = new URL('../../src/cli/main.js', import.meta.url);
const START_TIMEOUT_MS = 15_000;

/**
 * `node dist/src/cli/main.js server --amqp-port 0 --data-dir <tmp>`; the port comes from the
 * "AMQP listening on host:port" line. `nodeArgs` lets a caller add --cpu-prof and the like.
 */
export async function startWarren(nodeArgs: string[] = []): Promise<BrokerUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  const child = spawn(
    process.execPath,
    [...nodeArgs, WARREN_MAIN.pathname, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir },
  );
  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await waitForPort(child);
    return { name: 'Warren', url: `amqp://guest:guest@127.0.0.1:${port}`, pid: child.pid, stop: cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const output: string[] = [];
    const timer = setTimeout(() => reject(new Error(`Warren did not report its port:\n${output.join('\n')}`)), START_TIMEOUT_MS);
    const onLine = (line: string): void => {
      if (output.length < 50) output.push(line);
      const match = /AMQP listening on [^\s"]*:(\d+)/.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    // Keep draining both streams for the whole run: a full pipe would stall the broker.
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Warren exited (${code}) before listening:\n${output.join('\n')}`));
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** A broker someone else runs (RabbitMQ): never stopped here. */
export function externalBroker(name: string, url: string): BrokerUnderTest {
  return { name, url, pid: listenerPid(new URL(url).port || '5672'), stop: async () => undefined };
}

/** The PID listening on a local TCP port (via ss), e.g. RabbitMQ's beam.smp on 5672. */
export function listenerPid(port: string): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes, from /proc/<pid>/status. */
export function rssBytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS_PER_S = 100; // getconf CLK_TCK on Linux

/** User + system CPU seconds the process has used, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" closing the command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}
