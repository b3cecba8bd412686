/**
 * MQTT side by side in one run: Warren's MQTT door, Debian's mosquitto and (when it runs) RabbitMQ's
 * MQTT plugin, all driven by the same raw-TCP MQTT 3.1.1 load client (bench/mqtt-load.ts):
 *
 * - throughput, QoS 0 and QoS 1, 100 B, 1 publisher -> 1 subscriber and 1 publisher -> 100 subscribers
 *   (deliveries per second; the publisher keeps a bounded window ahead of the slowest subscriber, and
 *   at QoS 1 a bounded number of publishes awaiting PUBACK);
 * - latency at a fixed rate (QoS 0 and 1, 1 -> 1; p50/p99 from the sender's timestamp in the payload);
 * - memory of N idle connected clients (RSS growth of the broker process / N).
 *
 * Beside every throughput figure it prints the CPU the broker and the load client used (percent of one
 * core): a client near 100% is the ceiling, not the broker.
 *
 *   npm run build && ulimit -n 20000 && node dist/bench/mqtt.js [--messages 100000] [--fanout-messages 3000]
 *     [--rate 2000] [--seconds 3] [--idle 19500] [--idle-processes 4] [--rabbit-idle 17500] [--rabbit-port 1883]
 *     [--only throughput,latency,memory] [--brokers warren,mosquitto,rabbitmq] [--mosquitto-inflight 20]
 *     [--cases qos0-1to1,qos1-1to1,qos0-1to100,qos1-1to100,latency-qos0,latency-qos1]   (default: all cases)
 *     [--profile DIR]   (Warren runs under node --cpu-prof, profile written to DIR)
 *
 * RabbitMQ is not started here: `WARREN_RABBITMQ_PORT=5693 WARREN_RABBITMQ_MQTT_PORT=1893 bash
 * bench/rabbitmq.sh start` runs a node of its own with rabbitmq_mqtt on 1893 (then --rabbit-port 1893);
 * skipped when nothing listens on --rabbit-port. Use a node nobody else restarts: a shared node on
 * 1883 that fault tests killed and restarted is what "stalled" in an earlier session.
 *
 * Idle clients: `ulimit -n` has a hard limit of 20,000 here, so the broker can hold ~19,900 sockets;
 * the default 19,500 clients are opened from child processes (each with its own descriptor budget). Warren runs as a child process
 * (`warren server --mqtt-port 0`, LogStore in a temp dir); mosquitto with its defaults (no persistence)
 * and max_queued_messages 100000. Both are stopped and their temp dirs removed at the end.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSeconds, rabbitMq, rssKiB, startMosquitto, startWarren, type Broker } from './harness/mqtt-brokers.js';
import { parseBenchArgs, scriptUsage } from './harness/usage.js';
import { encodePublish, LoadClient } from './mqtt-load.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const WARREN_MAIN = resolve(HERE, '../src/cli/main.js');
const IDLE_CLIENTS = resolve(HERE, 'mqtt-idle-clients.js');
const PAYLOAD_BYTES = 100;

interface Throughput {
  deliveriesPerSecond: number;
  /** Broker CPU time per delivery, microseconds: less sensitive to a loaded machine than the rate. */
  brokerMicrosPerDelivery: number;
  brokerCpu: number;
  clientCpu: number;
  complete: boolean;
}

let runId = 0;

/**
 * One publisher, `subscribers` subscribers on one topic; `count` publishes. The publisher stays at most
 * `ahead` messages ahead of the slowest subscriber (so no broker has to drop QoS 0 or buffer without
 * bound) and, at QoS 1, at most `inflight` publishes without PUBACK.
 */
async function throughput(broker: Broker, qos: 0 | 1, subscribers: number, count: number): Promise<Throughput> {
  const id = `${++runId}-${process.pid}`;
  const topic = `bench/t${id}/q${qos}`;
  const subs: LoadClient[] = [];
  for (let i = 0; i < subscribers; i++) {
    const sub = await LoadClient.open(broker.port, `bs-${id}-${i}`);
    await sub.subscribe(topic, qos);
    subs.push(sub);
  }
  const pub = await LoadClient.open(broker.port, `bp-${id}`);
  const payload = Buffer.alloc(PAYLOAD_BYTES, 0x61);
  const template = encodePublish(topic, payload, qos);
  const ahead = subscribers === 1 ? 5000 : 500;
  const inflight = 1000;
  const batch = 100;
  let sent = 0;
  let acked = 0;
  let nextId = 1;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((ok) => (finish = ok));
  const slowest = (): number => {
    let min = Infinity;
    for (const s of subs) min = Math.min(min, s.received);
    return min;
  };
  let waitingForDrain = false;
  const pump = (): void => {
    if (waitingForDrain) return;
    const low = slowest();
    if (low >= count) return finish();
    while (sent < count && sent - low < ahead && (qos === 0 || sent - acked < inflight)) {
      const n = Math.min(batch, count - sent, ahead - (sent - low), qos === 0 ? Infinity : inflight - (sent - acked));
      const out = Buffer.allocUnsafe(template.bytes.length * n);
      for (let k = 0; k < n; k++) {
        const at = k * template.bytes.length;
        template.bytes.copy(out, at);
        if (qos === 1) {
          out.writeUInt16BE(nextId, at + template.idOffset);
          nextId = nextId === 65535 ? 1 : nextId + 1;
        }
      }
      sent += n;
      if (!pub.write(out)) {
        waitingForDrain = true;
        pub.socket.once('drain', () => {
          waitingForDrain = false;
          pump();
        });
        return;
      }
    }
  };
  // Pumping on every data event is enough: progress always comes with one.
  for (const sub of subs) sub.socket.on('data', pump);
  pub.handlers.puback = () => acked++;
  pub.socket.on('data', pump);
  const cpu0 = cpuSeconds(broker.pid());
  const client0 = process.cpuUsage();
  const started = performance.now();
  pump();
  const timeout = new Promise<void>((ok) => setTimeout(ok, 60_000).unref());
  await Promise.race([done, timeout]);
  const seconds = (performance.now() - started) / 1000;
  const clientUsage = process.cpuUsage(client0);
  const brokerCpu = (cpuSeconds(broker.pid()) - cpu0) / seconds;
  let delivered = 0;
  for (const s of subs) delivered += Math.min(s.received, count);
  await Promise.all([...subs, pub].map((c) => c.end()));
  return { deliveriesPerSecond: delivered / seconds, brokerMicrosPerDelivery: (brokerCpu * seconds * 1e6) / Math.max(1, delivered), brokerCpu: brokerCpu * 100, clientCpu: ((clientUsage.user + clientUsage.system) / 1e6 / seconds) * 100, complete: delivered === count * subscribers };
}

/** Publishes at `rate` per second (in 5 ms ticks) for `seconds`; latency percentiles in ms. */
async function latency(broker: Broker, qos: 0 | 1, rate: number, seconds: number): Promise<{ p50: number; p99: number; received: number }> {
  const id = `${++runId}-${process.pid}`;
  const topic = `bench/l${id}/q${qos}`;
  const sub = await LoadClient.open(broker.port, `ls-${id}`);
  await sub.subscribe(topic, qos);
  const pub = await LoadClient.open(broker.port, `lp-${id}`);
  const samples: number[] = [];
  sub.handlers.message = (stamp) => samples.push(performance.now() - stamp);
  const total = rate * seconds;
  const started = performance.now();
  let sent = 0;
  let nextId = 1;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
    for (; sent < due; sent++) {
      const payload = Buffer.alloc(PAYLOAD_BYTES);
      payload.writeDoubleLE(performance.now(), 0);
      pub.write(encodePublish(topic, payload, qos, nextId).bytes);
      nextId = nextId === 65535 ? 1 : nextId + 1;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, 1000));
  await Promise.all([sub.end(), pub.end()]);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), received: samples.length };
}

/**
 * RSS growth per idle connected client (clean session, no keepalive), in KiB. The clients are opened
 * by `processes` child processes (bench/mqtt-idle-clients.ts), so only the broker needs a descriptor
 * per client.
 */
async function idleMemory(broker: Broker, clients: number, processes: number): Promise<{ perClientKiB: number; connected: number; rssBeforeKiB: number; rssAfterKiB: number }> {
  const id = `${++runId}-${process.pid}`;
  console.error(`${broker.name}: opening ${clients} idle clients from ${processes} processes`);
  const warm = await LoadClient.open(broker.port, `warm-${id}`);
  await new Promise((r) => setTimeout(r, 1000));
  const before = rssKiB(broker.pid());
  const children = Array.from({ length: processes }, (_, k) => {
    const share = Math.floor(clients / processes) + (k < clients % processes ? 1 : 0);
    return spawn(process.execPath, [IDLE_CLIENTS, String(broker.port), String(share), `idle-${id}-${k}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  });
  const counts = await Promise.all(children.map((child) => new Promise<number>((ok) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /connected (\d+)/.exec(buffered);
      if (match !== null) ok(Number(match[1]));
    });
    child.once('exit', () => ok(0));
  })));
  const connected = counts.reduce((a, b) => a + b, 0);
  await new Promise((r) => setTimeout(r, 3000));
  const after = rssKiB(broker.pid());
  console.error(`${broker.name}: ${connected} idle clients, RSS ${before} -> ${after} KiB; disconnecting`);
  await Promise.all(children.map((child) => new Promise<void>((ok) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', () => {
      clearTimeout(timer);
      ok();
    });
    child.stdin!.end();
  })));
  await warm.end();
  return { perClientKiB: (after - before) / Math.max(1, connected), connected, rssBeforeKiB: before, rssAfterKiB: after };
}

/** The throughput and latency cases by name, for --cases (memory is chosen by --only alone). */
const CASES = ['qos0-1to1', 'qos1-1to1', 'qos0-1to100', 'qos1-1to100', 'latency-qos0', 'latency-qos1'] as const;

/** The chosen cases, or why the list is wrong. */
function selectedCases(list: string | undefined): Set<string> | string {
  if (list === undefined) return new Set(CASES);
  const names = list.split(',').filter((name) => name !== '');
  const unknown = names.filter((name) => !(CASES as readonly string[]).includes(name));
  if (unknown.length > 0) return `unknown case(s): ${unknown.join(', ')}`;
  return new Set(names);
}

async function main(): Promise<void> {
  const { values } = parseBenchArgs(import.meta.url, { options: {
    messages: { type: 'string', default: '100000' },
    'fanout-messages': { type: 'string', default: '3000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '3' },
    idle: { type: 'string', default: '19500' },
    'idle-processes': { type: 'string', default: '4' },
    // QoS 1 deliveries in flight per client: mosquitto's default is 20, RabbitMQ's mqtt.prefetch 10,
    // Warren's 1024 (bench/rabbitmq.sh takes WARREN_RABBITMQ_MQTT_PREFETCH).
    'mosquitto-inflight': { type: 'string', default: '20' },
    // RabbitMQ's file handle cache keeps ~10% of the 20,000 descriptors for files: 17,910 sockets.
    'rabbit-idle': { type: 'string', default: '17500' },
    'rabbit-port': { type: 'string', default: '1883' },
    only: { type: 'string', default: 'throughput,latency,memory' },
    // A subset of the throughput and latency cases, by name (see CASES): e.g. qos0-1to1,latency-qos1.
    cases: { type: 'string' },
    brokers: { type: 'string', default: 'warren,mosquitto,rabbitmq' },
    profile: { type: 'string' },
  } });
  const cases = selectedCases(values.cases);
  if (typeof cases === 'string') {
    console.error(`${cases}\n\n${scriptUsage(import.meta.url)}`);
    process.exitCode = 2;
    return;
  }
  const count = Number(values.messages);
  const fanoutCount = Number(values['fanout-messages']);
  const only = new Set(values.only.split(','));
  const wanted = new Set(values.brokers.split(','));
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const brokers: Broker[] = [];
  if (wanted.has('warren')) brokers.push(await startWarren(WARREN_MAIN, values.profile));
  const mosquitto = wanted.has('mosquitto') ? await startMosquitto(Number(values['mosquitto-inflight'])) : undefined;
  if (mosquitto !== undefined) brokers.push(mosquitto);
  else if (wanted.has('mosquitto')) console.error('mosquitto is not installed (apt-get install mosquitto)');
  const rabbit = wanted.has('rabbitmq') ? await rabbitMq(Number(values['rabbit-port'])) : undefined;
  if (rabbit !== undefined) brokers.push(rabbit);
  else if (wanted.has('rabbitmq')) console.error(`nothing listens on ${values['rabbit-port']}: no RabbitMQ (bench/rabbitmq.sh start && rabbitmq-plugins enable rabbitmq_mqtt)`);
  const lines: string[] = [];
  const ratio = (values: number[], i: number): string => (i === 0 || !(values[i]! > 0) ? '' : `${(values[0]! / values[i]!).toFixed(2)}x`);
  try {
    if (only.has('throughput')) {
      lines.push('', `Throughput, 100 B, deliveries/s (1 -> 1: ${count} messages; 1 -> 100: ${fanoutCount} messages x 100 subscribers); CPU % of one core`);
      lines.push('| case | broker | deliveries/s | broker CPU % | broker CPU µs per delivery | client CPU % | Warren / this (rate) | this / Warren (CPU per delivery) |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const [subscribers, n] of [[1, count], [100, fanoutCount]] as const) {
        for (const qos of [0, 1] as const) {
          if (!cases.has(`qos${qos}-1to${subscribers}`)) continue;
          const results: Throughput[] = [];
          // Brokers take turns, so load from other processes hits all alike.
          for (const broker of brokers) results.push(await throughput(broker, qos, subscribers, n));
          const rates = results.map((r) => r.deliveriesPerSecond);
          const costs = results.map((r) => 1 / r.brokerMicrosPerDelivery);
          results.forEach((r, i) => lines.push(`| QoS ${qos} 1 -> ${subscribers} | ${brokers[i]!.name} | ${r.deliveriesPerSecond.toFixed(0)}${r.complete ? '' : ' (incomplete)'} | ${r.brokerCpu.toFixed(0)} | ${r.brokerMicrosPerDelivery.toFixed(1)} | ${r.clientCpu.toFixed(0)} | ${ratio(rates, i)} | ${ratio(costs, i)} |`));
          console.error(lines.slice(-results.length).join('\n'));
        }
      }
    }
    if (only.has('latency')) {
      const rate = Number(values.rate);
      const seconds = Number(values.seconds);
      lines.push('', `Latency at ${rate} msg/s for ${seconds} s, 1 -> 1, 100 B (ms)`, '| QoS | broker | p50 | p99 | received |', '| --- | --- | --- | --- | --- |');
      for (const qos of [0, 1] as const) {
        if (!cases.has(`latency-qos${qos}`)) continue;
        for (const broker of brokers) {
          const l = await latency(broker, qos, rate, seconds);
          lines.push(`| ${qos} | ${broker.name} | ${l.p50.toFixed(2)} | ${l.p99.toFixed(2)} | ${l.received} |`);
        }
      }
    }
    if (only.has('memory')) {
      const clients = Number(values.idle);
      lines.push('', `Idle connected clients (MQTT 3.1.1, clean session, no subscription): broker RSS growth per client`, '| broker | clients | RSS before -> after (MiB) | KiB per client |', '| --- | --- | --- | --- |');
      for (const broker of brokers) {
        const m = await idleMemory(broker, broker === rabbit ? Math.min(clients, Number(values['rabbit-idle'])) : clients, Number(values['idle-processes']));
        lines.push(`| ${broker.name} | ${m.connected} | ${(m.rssBeforeKiB / 1024).toFixed(0)} -> ${(m.rssAfterKiB / 1024).toFixed(0)} | ${m.perClientKiB.toFixed(1)} |`);
      }
    }
  } finally {
    for (const broker of brokers) await broker.stop();
  }
  console.log(`MQTT, raw-TCP 3.1.1 load client (bench/mqtt-load.ts) for every broker; load average before: ${loadBefore}, after: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  for (const line of lines) console.log(line);
}

await main();
