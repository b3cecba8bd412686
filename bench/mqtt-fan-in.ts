/**
 * MQTT fan-in: many publishers, one subscriber (devices reporting to one backend), QoS 0, 100 B. Every
 * publisher sends one message per 2 ms tick, so each event-loop turn of the broker reads one small
 * chunk from each of them; the figure is the broker's CPU per delivery, which shows how the door
 * gathers the many publishers' deliveries into writes to the one subscriber. Warren (this build, and
 * optionally another build beside it) and Debian's mosquitto take turns in one run.
 *
 *   npm run build && node dist/bench/mqtt-fan-in.js [--publishers 50] [--seconds 5] [--rounds 3]
 *     [--base DIR]   (DIR: another built checkout, e.g. from bench/baseline.sh, run beside this one)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from './harness/usage.js';
import { encodePublish, LoadClient } from './mqtt-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));

interface Broker {
  name: string;
  port: number;
  pid: number;
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

async function startWarren(name: string, main: string): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-mqtt-fan-in-'));
  const child = spawn(process.execPath, [main, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'ignore'], cwd: dataDir });
  const port = await new Promise<number>((ok, fail) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /MQTT listening on [^:]+:(\d+)/.exec(buffered);
      if (match !== null) ok(Number(match[1]));
    });
    child.once('exit', (code) => fail(new Error(`${name} exited with ${code}`)));
  });
  return { name, port, pid: child.pid!, stop: () => stopped(child, dataDir) };
}

async function startMosquitto(): Promise<Broker | undefined> {
  if (!existsSync('/usr/sbin/mosquitto')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-fan-in-'));
  writeFileSync(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  const child = spawn('/usr/sbin/mosquitto', ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((ok) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) {
      this.destroy();
      ok(true);
    }).once('error', () => ok(false)));
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: 'mosquitto', port, pid: child.pid!, stop: () => stopped(child, dir) };
}

function stopped(child: ReturnType<typeof spawn>, dir: string): Promise<void> {
  return new Promise<void>((ok) => {
    child.once('exit', () => ok());
    child.kill('SIGTERM');
  }).then(() => rmSync(dir, { recursive: true, force: true }));
}

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function fanIn(broker: Broker, publishers: number, seconds: number): Promise<{ rate: number; microsPerDelivery: number; complete: boolean }> {
  const sub = await LoadClient.open(broker.port, `fan-sub-${process.pid}`);
  await sub.subscribe('fan/#', 0);
  const pubs: LoadClient[] = [];
  for (let i = 0; i < publishers; i++) pubs.push(await LoadClient.open(broker.port, `fan-pub-${process.pid}-${i}`));
  const packets = pubs.map((_, i) => encodePublish(`fan/${i}`, Buffer.alloc(100, 0x61), 0).bytes);
  const cpuBefore = cpuSeconds(broker.pid);
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    for (let i = 0; i < publishers; i++) pubs[i]!.write(packets[i]!);
    sent += publishers;
    await new Promise((r) => setTimeout(r, 2));
  }
  for (let i = 0; i < 100 && sub.received < sent; i++) await new Promise((r) => setTimeout(r, 20));
  const cpu = cpuSeconds(broker.pid) - cpuBefore;
  const received = sub.received;
  await Promise.all([sub, ...pubs].map((c) => c.end()));
  return { rate: received / seconds, microsPerDelivery: (cpu * 1e6) / Math.max(1, received), complete: received === sent };
}

const { values } = parseBenchArgs(import.meta.url, { options: {
  publishers: { type: 'string', default: '50' },
  seconds: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '3' },
  base: { type: 'string' },
} });
const publishers = Number(values.publishers);
const seconds = Number(values.seconds);
const brokers: Broker[] = [await startWarren('Warren', resolve(HERE, '../src/cli/main.js'))];
if (values.base !== undefined) brokers.push(await startWarren('Warren (base)', resolve(values.base, 'dist/src/cli/main.js')));
const mosquitto = await startMosquitto();
if (mosquitto !== undefined) brokers.push(mosquitto);
console.log(`MQTT fan-in, ${publishers} publishers -> 1 subscriber, QoS 0, 100 B, one message per publisher every 2 ms, ${seconds} s; load average before: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log('| round | broker | deliveries/s | broker CPU µs per delivery |\n| --- | --- | --- | --- |');
try {
  for (const broker of brokers) await fanIn(broker, publishers, 1); // warm-up
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const broker of brokers) {
      const r = await fanIn(broker, publishers, seconds);
      console.log(`| ${round} | ${broker.name} | ${r.rate.toFixed(0)}${r.complete ? '' : ' (incomplete)'} | ${r.microsPerDelivery.toFixed(2)} |`);
    }
  }
} finally {
  for (const broker of brokers) await broker.stop();
}
console.log(`load average after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
