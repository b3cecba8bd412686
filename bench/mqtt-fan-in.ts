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
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, startMosquitto, startWarren, type Broker } from './harness/mqtt-brokers.js';
import { parseBenchArgs } from './harness/usage.js';
import { encodePublish, LoadClient } from './mqtt-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));

async function fanIn(broker: Broker, publishers: number, seconds: number): Promise<{ rate: number; microsPerDelivery: number; complete: boolean }> {
  const sub = await LoadClient.open(broker.port, `fan-sub-${process.pid}`);
  await sub.subscribe('fan/#', 0);
  const pubs: LoadClient[] = [];
  for (let i = 0; i < publishers; i++) pubs.push(await LoadClient.open(broker.port, `fan-pub-${process.pid}-${i}`));
  const packets = pubs.map((_, i) => encodePublish(`fan/${i}`, Buffer.alloc(100, 0x61), 0).bytes);
  const cpuBefore = cpuSeconds(broker.pid());
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < seconds * 1000) {
    for (let i = 0; i < publishers; i++) pubs[i]!.write(packets[i]!);
    sent += publishers;
    await new Promise((r) => setTimeout(r, 2));
  }
  for (let i = 0; i < 100 && sub.received < sent; i++) await new Promise((r) => setTimeout(r, 20));
  const cpu = cpuSeconds(broker.pid()) - cpuBefore;
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
const brokers: Broker[] = [await startWarren(resolve(HERE, '../src/cli/main.js'))];
if (values.base !== undefined) brokers.push(await startWarren(resolve(values.base, 'dist/src/cli/main.js'), undefined, 'Warren (base)'));
// mosquitto's default window (20 in flight) does not matter at QoS 0.
const mosquitto = await startMosquitto(20);
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
