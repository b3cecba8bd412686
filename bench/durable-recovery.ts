/**
 * Broker recovery time after kill -9: a child process (this file with WARREN_RECOVERY_CHILD set) fills a
 * durable queue with N persistent messages through the broker core and LogStore, prints "ready" once
 * all are durable, and is SIGKILLed. The parent then starts a broker on the same data dir and reports
 * how long start() (store recovery + definitions + queue rebuild) takes, and the time to the first
 * delivery.
 *   node .build/durable/bench/durable-recovery.js [messages=1000000] [bodyBytes=1024]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Broker } from '../src/broker/broker.js';
import { Message } from '../src/broker/message.js';
import { LogStore } from '../src/store/log-store.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 1_000_000);
const bodyBytes = Number(process.argv[3] ?? 1024);
const CHILD_DIR = process.env['WARREN_RECOVERY_CHILD'];

function durable(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.whenDurable(resolve));
}

async function fill(dataDir: string): Promise<void> {
  const broker = new Broker({ store: new LogStore({ dataDir }) });
  await broker.start();
  const vhost = broker.getVhost('/')!;
  vhost.declareQueue({ name: 'recover-me', durable: true, exclusive: false, autoDelete: false, arguments: {} }, { name: 'bench' });
  const properties = { deliveryMode: 2 };
  for (let i = 0; i < total; i += 5000) {
    for (let n = i; n < Math.min(total, i + 5000); n++) {
      const body = Buffer.allocUnsafe(bodyBytes);
      body.writeUInt32LE(n, 0);
      vhost.publish(new Message('', 'recover-me', properties, body));
    }
    await durable(broker);
  }
  process.stdout.write('ready\n');
  await new Promise(() => undefined); // wait to be killed
}

async function measure(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-recovery-'));
  try {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), String(total), String(bodyBytes)], {
      env: { ...process.env, WARREN_RECOVERY_CHILD: dataDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`filler exited with ${code}`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const started = performance.now();
    const broker = new Broker({ store: new LogStore({ dataDir }) });
    await broker.start();
    const startMs = performance.now() - started;
    const queue = broker.getVhost('/')!.getQueue('recover-me')!;
    const first = queue.get(true);
    const firstMs = performance.now() - started;
    console.log(`recovered ${queue.readyCount() + (first ? 1 : 0)} of ${total} x ${bodyBytes} B after kill -9: start() ${startMs.toFixed(0)} ms, first message ${firstMs.toFixed(0)} ms; RSS ${(process.memoryUsage.rss() / 1048576).toFixed(0)} MB`);
    if (first === undefined || first.message.body.readUInt32LE(0) !== 0) throw new Error('first recovered message is not message 0');
    await broker.stop();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (CHILD_DIR !== undefined) await fill(CHILD_DIR);
else await measure();
