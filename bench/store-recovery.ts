/**
 * Recovery time and memory of the LogStore: writes N messages of SIZE bytes (default 1M x 1 KiB), then
 * reopens the store in a fresh child process and reports how long open() took and the RSS after it.
 *   node .build/store/bench/store-recovery.js [messages=1000000] [size=1024]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../src/store/log-store.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 1_000_000);
const size = Number(process.argv[3] ?? 1024);

async function write(dir: string): Promise<void> {
  const store = new LogStore({ dataDir: dir });
  await store.open();
  const q = store.stream('/big');
  const header = Buffer.alloc(30, 2);
  for (let i = 0; i < total; i++) {
    q.append(header, Buffer.allocUnsafe(size));
    if (i % 10_000 === 0) await new Promise<void>((resolve, reject) => store.whenDurable((e) => (e ? reject(e) : resolve())));
  }
  await store.close();
}

async function recover(dir: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const started = performance.now();
  const store = new LogStore({ dataDir: dir });
  const state = await store.open();
  const ms = performance.now() - started;
  const messages = state.streams.reduce((n, q) => n + q.handles.length, 0);
  const rss = process.memoryUsage().rss;
  console.log(
    `recovered ${messages.toLocaleString('en')} messages in ${ms.toFixed(0)} ms; ` +
      `RSS ${(rss / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before open), ` +
      `${((rss - rssBefore) / Math.max(messages, 1)).toFixed(1)} bytes/message incl. the 64 MiB read buffer`,
  );
  await store.close();
}

async function main(): Promise<void> {
  if (process.argv[4]) return recover(process.argv[4]);
  const dir = mkdtempSync(join(process.env.BENCH_DIR ?? '/tmp', 'warren-recovery-bench-'));
  try {
    const started = performance.now();
    await write(dir);
    console.log(`wrote ${total.toLocaleString('en')} x ${size} B in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), String(total), String(size), dir], { stdio: 'inherit' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
