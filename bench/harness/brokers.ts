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
  /**
   * A broker started here that died (crash) is started again, so one crash does not void the remaining
   * scenarios; returns the dead process's last output lines, or undefined if it was alive.
   */
  ensureAlive(): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** This build's CLI; another build's is `<checkout>/dist/src/cli/main.js` (`--baseline`). */
const WARREN_MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;
const START_TIMEOUT_MS = 15_000;

/**
 * `node <main> server --amqp-port 0 --data-dir <tmp>`; the port comes from the "AMQP listening on
 * host:port" line. `nodeArgs` lets a caller add --cpu-prof and the like; `main` is the build's
 * dist/src/cli/main.js (this one's by default), so a baseline build can run beside it as `name`.
 * Only flags every build since the bench began knows are passed, plus `serverArgs` (e.g. a higher
 * --max-connections for bench/scale.ts).
 */
export async function startWarren(nodeArgs: string[] = [], main = WARREN_MAIN, name = 'Warren', serverArgs: string[] = []): Promise<BrokerUnderTest> {
  const spawnIt = (): Promise<WarrenChild> => spawnWarren(nodeArgs, main, name, serverArgs);
  let current = await spawnIt();
  const broker: BrokerUnderTest = {
    name,
    url: current.url,
    pid: current.child.pid,
    ensureAlive: async () => {
      if (current.child.exitCode === null && current.child.signalCode === null) return undefined;
      const last = current.output.slice(-30).join('\n');
      await current.cleanup();
      current = await spawnIt();
      broker.url = current.url;
      broker.pid = current.child.pid;
      return last;
    },
    stop: () => current.cleanup(),
  };
  return broker;
}

interface WarrenChild {
  child: ChildProcess;
  url: string;
  /** The latest lines it printed (kept for crash reports). */
  output: string[];
  cleanup(): Promise<void>;
}

async function spawnWarren(nodeArgs: string[], main: string, name: string, serverArgs: string[]): Promise<WarrenChild> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-bench-'));
  const child = spawn(
    process.execPath,
    [...nodeArgs, main, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--data-dir', dataDir, ...serverArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir },
  );
  const output: string[] = [];
  const cleanup = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const port = await waitForPort(child, output, name);
    return { child, url: `amqp://guest:guest@127.0.0.1:${port}`, output, cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function waitForPort(child: ChildProcess, output: string[], name: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not report its port:\n${output.join('\n')}`)), START_TIMEOUT_MS);
    const onLine = (line: string): void => {
      output.push(line);
      if (output.length > 200) output.splice(0, 100);
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
      reject(new Error(`${name} exited (${code}) before listening:\n${output.join('\n')}`));
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
  return {
    name,
    url,
    pid: listenerPid(new URL(url).port || '5672'),
    ensureAlive: async () => undefined,
    stop: async () => undefined,
  };
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
