/**
 * STOMP SEND -> MESSAGE (through /topic/, so amq.topic and one subscription queue) throughput and latency, Warren's STOMP door against RabbitMQ's STOMP plugin,
 * with one client (raw TCP, this repo's STOMP codec) for both, side by side in one run.
 *
 *   npx tsc -p . && node dist/bench/stomp.js [--messages 100000] [--size 100] [--rate 2000] [--rabbit-port 61613]
 *
 * Warren is started in-process (memory store, STOMP on an ephemeral port). RabbitMQ must already run
 * with `rabbitmq-plugins enable rabbitmq_stomp` (bench/rabbitmq.sh start); it is skipped if absent.
 */
import { connect, type Socket } from 'node:net';
import { parseBenchArgs } from './harness/usage.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { loadConfig, silentLogger, WarrenServer } from '../src/index.js';
import { encodeFrame } from '../src/stomp/codec/encoder.js';
import type { StompFrame } from '../src/stomp/codec/frame.js';
import { StompParser } from '../src/stomp/codec/parser.js';

const { values } = parseBenchArgs(import.meta.url, {
  options: {
    messages: { type: 'string', default: '100000' },
    size: { type: 'string', default: '100' },
    rate: { type: 'string', default: '2000' },
    'rabbit-port': { type: 'string', default: '61613' },
  },
});
const MESSAGES = Number(values.messages);
const SIZE = Number(values.size);
const RATE = Number(values.rate);

class RawStomp {
  private parser = new StompParser({ frame: (f) => this.onFrame(f), heartbeat: () => undefined });
  private waiting: Array<(f: StompFrame) => void> = [];
  onMessage: (f: StompFrame) => void = () => undefined;
  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.parser.push(d));
  }
  static async open(port: number): Promise<RawStomp> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawStomp(socket);
    c.write('CONNECT', [['accept-version', '1.2'], ['host', '/'], ['login', 'guest'], ['passcode', 'guest'], ['heart-beat', '0,0']]);
    const f = await c.next();
    if (f.command !== 'CONNECTED') throw new Error(`${f.command}: ${f.headers.get('message') ?? ''} ${f.body.toString()}`);
    c.parser.escaping = '1.2';
    return c;
  }
  write(command: string, headers: Array<[string, string]>, body?: Buffer): boolean {
    return this.socket.write(encodeFrame(command, headers, body, command === 'CONNECT' ? 'none' : '1.2'));
  }
  next(): Promise<StompFrame> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  private onFrame(f: StompFrame): void {
    if (f.command === 'MESSAGE') return this.onMessage(f);
    const w = this.waiting.shift();
    if (w !== undefined) w(f);
    else if (f.command === 'ERROR') throw new Error(f.body.toString());
  }
  async subscribe(queue: string): Promise<void> {
    // A topic subscription: its queue is the session's own and goes with it (nothing left behind on a shared RabbitMQ).
    this.write('SUBSCRIBE', [['id', 's'], ['destination', `/topic/${queue}`], ['ack', 'auto'], ['receipt', 'sub']]);
    await this.next();
  }
  close(): void {
    this.socket.destroy();
  }
}

async function throughput(port: number): Promise<number> {
  const queue = `bench-${Date.now()}`;
  const sub = await RawStomp.open(port);
  await sub.subscribe(queue);
  const pub = await RawStomp.open(port);
  const body = Buffer.alloc(SIZE, 0x61);
  let got = 0;
  const done = new Promise<void>((resolve) => (sub.onMessage = () => ++got === MESSAGES && resolve()));
  const start = performance.now();
  const headers: Array<[string, string]> = [['destination', `/topic/${queue}`]];
  for (let i = 0; i < MESSAGES; i++) {
    if (!pub.write('SEND', headers, body)) await new Promise((r) => pub.socket.once('drain', r));
  }
  await done;
  const seconds = (performance.now() - start) / 1000;
  sub.close();
  pub.close();
  return MESSAGES / seconds;
}

async function latency(port: number): Promise<{ p50: number; p99: number }> {
  const queue = `lat-${Date.now()}`;
  const sub = await RawStomp.open(port);
  await sub.subscribe(queue);
  const pub = await RawStomp.open(port);
  const count = RATE * 5;
  const samples: number[] = [];
  const done = new Promise<void>((resolve) => {
    sub.onMessage = (f) => {
      samples.push(performance.now() - Number(f.headers.get('x-sent')));
      if (samples.length === count) resolve();
    };
  });
  const body = Buffer.alloc(SIZE, 0x62);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(count, Math.floor(((performance.now() - start) / 1000) * RATE));
      for (; sent < due; sent++) pub.write('SEND', [['destination', `/topic/${queue}`], ['x-sent', String(performance.now())]], body);
      if (sent >= count) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await done;
  sub.close();
  pub.close();
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

async function rabbitAvailable(port: number): Promise<boolean> {
  try {
    (await RawStomp.open(port)).close();
    return true;
  } catch {
    return false;
  }
}

const config = loadConfig({ env: {}, flags: { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'stomp-port': '0', 'log-level': 'silent', 'data-dir': '/tmp/warren-bench-stomp' } });
const server = new WarrenServer(config, silentLogger(), { store: new MemoryStore() });
const warrenPort = (await server.start()).stomp!.port;
const rabbitPort = Number(values['rabbit-port']);
const targets: Array<[string, number]> = [['warren', warrenPort]];
if (await rabbitAvailable(rabbitPort)) targets.push(['rabbitmq', rabbitPort]);
else console.log(`RabbitMQ STOMP not reachable on ${rabbitPort}: Warren only`);
console.log(`load: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
const results: Record<string, { rate: number; p50: number; p99: number }> = {};
for (const [name, port] of targets) {
  console.log(`running ${name} on ${port}`);
  const rate = await throughput(port);
  const { p50, p99 } = await latency(port);
  results[name] = { rate, p50, p99 };
  console.log(`${name.padEnd(9)} SEND->MESSAGE ${MESSAGES} x ${SIZE} B: ${Math.round(rate)} msg/s; latency at ${RATE} msg/s: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
}
if (results['warren'] && results['rabbitmq']) console.log(`ratio warren/rabbitmq throughput: ${(results['warren'].rate / results['rabbitmq'].rate).toFixed(2)}x`);
await server.stop();
