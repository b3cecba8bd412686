/**
 * Append + whenDurable throughput of the LogStore with group commit (sync policy 'always').
 * Publishers keep `inflight` messages unconfirmed, like AMQP publishers with confirms and a window.
 *   node .build/store/bench/store-append.js [messages=1000000] [size=100] [inflight=5000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore } from '../src/store/log-store.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const total = Number(process.argv[2] ?? 1_000_000);
const size = Number(process.argv[3] ?? 100);
const inflight = Number(process.argv[4] ?? 5000);
const dir = mkdtempSync(join(process.env.BENCH_DIR ?? '/tmp', 'warren-store-bench-'));

async function main(): Promise<void> {
  const store = new LogStore({ dataDir: dir });
  await store.open();
  const q = store.stream('/bench');
  const header = Buffer.alloc(20, 1);
  let sent = 0;
  let confirmed = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (sent < total && sent - confirmed < inflight) {
        const batch = Math.min(500, total - sent);
        for (let i = 0; i < batch; i++) q.append(header, Buffer.allocUnsafe(size));
        sent += batch;
        store.whenDurable((error) => {
          if (error) return reject(error);
          confirmed += batch;
          if (confirmed === total) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const seconds = (performance.now() - started) / 1000;
  const stats = store.stats();
  console.log(
    `append+confirm: ${total} x ${size} B in ${seconds.toFixed(2)} s = ${Math.round(total / seconds).toLocaleString('en')} msg/s, ` +
      `${stats.syncs} fdatasyncs (${Math.round(total / stats.syncs)} msgs/sync)`,
  );
  await store.close();
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
