/**
 * MQTT publish -> subscribe, Warren's MQTT door against Debian's mosquitto, side by side in one run,
 * with the same client (MQTT.js) for both: QoS 0 and QoS 1 throughput (1 publisher, 1 subscriber,
 * 100-byte payloads) and latency at a fixed rate.
 *
 *   npm run build && node dist/bench/mqtt.js [--messages 20000] [--rate 2000] [--seconds 3]
 *
 * Warren runs as a child process (`warren server --mqtt-port 0`, a LogStore in a temp dir, sync
 * always); mosquitto is started on a free port with its defaults (no persistence). Both brokers are
 * stopped and their temp dirs removed at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

const WARREN_MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const PAYLOAD_BYTES = 100;

interface Broker {
  name: string;
  url: string;
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
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      ok();
    });
    child.kill('SIGTERM');
  });
}

async function startWarren(): Promise<Broker> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-mqtt-bench-'));
  const child = spawn(process.execPath, [WARREN_MAIN, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-port', '0', '--mqtt-port', '0', '--mqtt-host', '127.0.0.1', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dataDir });
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
  return { name: 'Warren', url: `mqtt://127.0.0.1:${port}`, stop: async () => {
    await stopChild(child);
    rmSync(dataDir, { recursive: true, force: true });
  } };
}

async function startMosquitto(): Promise<Broker | undefined> {
  if (!existsSync('/usr/sbin/mosquitto')) return undefined;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mosquitto-bench-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\n`);
  const child = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (let i = 0; i < 100; i++) {
    if (await canConnect(port)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { name: 'mosquitto', url: `mqtt://127.0.0.1:${port}`, stop: async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  } };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      ok(true);
    });
    socket.once('error', () => ok(false));
  });
}

async function client(url: string, clientId: string): Promise<MqttClient> {
  const c = mqtt.connect(url, { protocolVersion: 4, clientId, clean: true, reconnectPeriod: 0 });
  await new Promise<void>((ok, fail) => {
    c.once('connect', () => ok());
    c.once('error', fail);
  });
  return c;
}

/** Publishes `count` messages as fast as the client allows; returns messages per second received. */
async function throughput(url: string, qos: 0 | 1, count: number): Promise<number> {
  const sub = await client(url, `bench-sub-${qos}-${Date.now()}`);
  const pub = await client(url, `bench-pub-${qos}-${Date.now()}`);
  const topic = `bench/throughput/${qos}`;
  await sub.subscribeAsync(topic, { qos });
  let received = 0;
  const done = new Promise<void>((ok) => sub.on('message', () => {
    if (++received === count) ok();
  }));
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  const started = performance.now();
  const window = qos === 0 ? 1000 : 500;
  for (let sent = 0; sent < count; ) {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < window && sent < count; i++, sent++) batch.push(pub.publishAsync(topic, payload, { qos }));
    await Promise.all(batch);
  }
  const timeout = new Promise<void>((ok) => setTimeout(ok, 30_000));
  await Promise.race([done, timeout]);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return received / seconds;
}

/** Publishes at `rate` per second for `seconds`; returns latency percentiles in ms. */
async function latency(url: string, qos: 0 | 1, rate: number, seconds: number): Promise<{ p50: number; p99: number }> {
  const sub = await client(url, `bench-lat-sub-${qos}-${Date.now()}`);
  const pub = await client(url, `bench-lat-pub-${qos}-${Date.now()}`);
  const topic = `bench/latency/${qos}`;
  await sub.subscribeAsync(topic, { qos });
  const samples: number[] = [];
  sub.on('message', (_t, payload) => samples.push(performance.now() - payload.readDoubleLE(0)));
  const total = rate * seconds;
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload.writeDoubleLE(performance.now(), 0);
    pub.publish(topic, payload, { qos });
  }
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { messages: { type: 'string', default: '20000' }, rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '3' } } });
  const count = Number(values.messages);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const brokers: Broker[] = [await startWarren()];
  const mosquitto = await startMosquitto();
  if (mosquitto === undefined) console.error('mosquitto is not installed (apt-get install mosquitto): Warren only');
  else brokers.push(mosquitto);
  const rows: string[][] = [];
  try {
    for (const qos of [0, 1] as const) {
      const rates: number[] = [];
      const lats: { p50: number; p99: number }[] = [];
      // Alternate brokers so load from other processes hits both alike.
      for (const broker of brokers) rates.push(await throughput(broker.url, qos, count));
      for (const broker of brokers) lats.push(await latency(broker.url, qos, rate, seconds));
      for (let i = 0; i < brokers.length; i++) {
        rows.push([brokers[i]!.name, `QoS ${qos}`, rates[i]!.toFixed(0), lats[i]!.p50.toFixed(2), lats[i]!.p99.toFixed(2), i === 0 || rates[i] === 0 ? '' : (rates[0]! / rates[i]!).toFixed(2)]);
      }
    }
  } finally {
    for (const broker of brokers) await broker.stop();
  }
  console.log(`MQTT 1 publisher -> 1 subscriber, ${PAYLOAD_BYTES} B, ${count} messages; latency at ${rate} msg/s for ${seconds} s (MQTT.js 3.1.1 client for both)`);
  console.log('| broker | QoS | msg/s | latency p50 ms | p99 ms | Warren / this |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

await main();
