/**
 * The brokers bench/mqtt.ts and bench/mqtt-fan-in.ts compare, started and stopped the same way: Warren
 * as a child process (`warren server --mqtt-port 0`, LogStore in a temp dir), Debian's mosquitto with
 * its defaults (no persistence), RabbitMQ's MQTT plugin if something already listens; and what is read
 * of their processes (CPU time, RSS).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Broker {
  name: string;
  port: number;
  pid(): number | undefined;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => ok(port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      ok();
    });
    child.kill('SIGTERM');
  });
}

/** Warren from `main` (a built src/cli/main.js), named `name`; under --cpu-prof into `profileDir` if given. */
export async function startWarren(main: string, profileDir?: string, name = 'Warren'): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-mqtt-bench-'));
  const nodeArgs = profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir];
  const child = spawn(process.execPath, [...nodeArgs, main, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir });
  const port = await new Promise<number>((ok, fail) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      // The server logs "MQTT listening on host:port" (the port chosen for 0).
      const match = /MQTT listening on [^:]+:(\d+)/.exec(buffered);
      if (match !== null) ok(Number(match[1]));
    });
    child.once('exit', (code) => fail(new Error(`warren exited with ${code}: ${buffered.slice(-2000)}`)));
  });
  return { name, port, pid: () => child.pid, stop: async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  } };
}

export async function startMosquitto(inflight: number): Promise<Broker | undefined> {
  if (!existsSync('/usr/sbin/mosquitto')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nmax_inflight_messages ${inflight}\n`);
  // Its log goes nowhere: an unread pipe fills after ~100 connects and mosquitto blocks writing to it.
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await canConnect(port)); i++) await new Promise((r) => setTimeout(r, 50));
  return { name: 'mosquitto', port, pid: () => child.pid, stop: async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  } };
}

/** RabbitMQ's MQTT plugin, if something listens on the port (never started or stopped here). */
export async function rabbitMq(port: number): Promise<Broker | undefined> {
  if (!(await canConnect(port))) return undefined;
  const pid = (): number | undefined => {
    try {
      const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`]).toString();
      const match = /pid=(\d+)/.exec(out);
      return match === null ? undefined : Number(match[1]);
    } catch {
      return undefined;
    }
  };
  return { name: 'RabbitMQ 3.10 mqtt', port, pid, stop: async () => undefined };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = net.connect(port, '127.0.0.1');
    // A listener whose accept queue is full (a stalled broker) never answers: give up after 3 s.
    socket.setTimeout(3000, () => {
      socket.destroy();
      ok(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15, 100 ticks a second). */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? NaN : Number(match[1]);
}
