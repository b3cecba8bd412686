/**
 * Child process of bench/mqtt.ts's idle-client measurement: opens `count` idle MQTT 3.1.1 clients
 * (clean session, keepalive 0, no subscription) to a broker, reports `connected N` on stdout, and
 * keeps them until its stdin closes, then disconnects them and exits. The clients live in child
 * processes so that their sockets do not count against the bench's own `ulimit -n` (a hard 20,000
 * here): the broker alone then needs one descriptor per client.
 *
 *   node dist/bench/mqtt-idle-clients.js PORT COUNT ID_PREFIX
 */
import { LoadClient } from './mqtt-load.js';

const [portArg, countArg, prefix = 'idle'] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const open: LoadClient[] = [];

// 20 at a time, each given 10 s: a burst of connects that overflows a broker's accept queue stalls for long.
const openOne = (n: number): Promise<LoadClient | undefined> => Promise.race([
  LoadClient.open(port, `${prefix}-${n}`).catch(() => undefined),
  new Promise<undefined>((ok) => setTimeout(() => ok(undefined), 10_000).unref()),
]);
for (let i = 0; i < count; i += 20) {
  const batch = await Promise.all(Array.from({ length: Math.min(20, count - i) }, (_, k) => openOne(i + k)));
  for (const c of batch) if (c !== undefined) open.push(c);
  if (i % 1000 === 980) process.stdout.write(`progress ${open.length}\n`);
}
process.stdout.write(`connected ${open.length}\n`);
process.stdin.resume();
process.stdin.once('end', async () => {
  for (let i = 0; i < open.length; i += 500) await Promise.all(open.slice(i, i + 500).map((c) => c.end()));
  process.exit(0);
});
