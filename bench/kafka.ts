/**
 * The Kafka door's benchmark: Warren against a null Kafka endpoint (bench/kafka/null-endpoint.ts, each
 * client's own ceiling) side by side in one run, and the disk's sequential fdatasync'd write speed
 * (fio) beside Warren's MB/s. Warren and the null endpoint run as child processes; every client run is
 * a child process too (kcat = librdkafka, bench/kafka/kafkajs-producer.ts = kafkajs).
 *
 *   npx tsc -p . && node dist/bench/kafka.js [--records 1000000] [--sizes 100,1024] [--acks 1,all]
 *       [--clients kcat,kafkajs] [--rounds 1] [--replay-mib 256] [--no-fio] [--warren-args "..."]
 *       [--target host:port]   (measure a broker already running instead of starting Warren)
 *
 * For each client, record size and acks: the same number of bytes is produced (--records of 100 B,
 * scaled down for larger records; a tenth of that for kafkajs) to a fresh topic on the null endpoint and then on Warren; records/s,
 * MB/s (record payload) and Warren's share of the ceiling are printed as a markdown table. Then kcat
 * replays the 100 B topic from the beginning on both (fetch figure), and a --replay-mib stream of 1 KiB
 * records is replayed from Warren while its RSS is sampled every 100 ms (bounded read-ahead: the peak
 * should not grow with the stream). `cat /proc/loadavg` is printed before and after: the machine is
 * shared, so only the ratios of one run mean much.
 *
 * Warren runs with its defaults (store sync 'always': acks=all is answered after fdatasync) plus
 * --kafka-auto-create-topics true, on a temp data dir in os.tmpdir(), where fio also writes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from './harness/usage.js';
import { kafkajsProduce, kcatProduce, kcatReplay, recordFile, type Acks, type Run } from './kafka/drivers.js';
import { startProcess, type Started } from './kafka/processes.js';

const WARREN_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const NULL_ENDPOINT = fileURLToPath(new URL('./kafka/null-endpoint.js', import.meta.url));

interface Args {
  records: number;
  sizes: number[];
  acks: Acks[];
  clients: Array<'kcat' | 'kafkajs'>;
  rounds: number;
  replayMib: number;
  fio: boolean;
  warrenArgs: string[];
  /** host:port of a Kafka broker already running, measured instead of a Warren started here (no RSS). */
  target: string | undefined;
}

function parse(): Args {
  const { values } = parseBenchArgs(import.meta.url, {
    options: {
      records: { type: 'string', default: '1000000' },
      sizes: { type: 'string', default: '100,1024' },
      acks: { type: 'string', default: '1,all' },
      clients: { type: 'string', default: 'kcat,kafkajs' },
      rounds: { type: 'string', default: '1' },
      'replay-mib': { type: 'string', default: '256' },
      'no-fio': { type: 'boolean', default: false },
      'warren-args': { type: 'string', default: '' },
      target: { type: 'string' },
    },
  });
  const list = (text: string): string[] => text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    records: Number(values.records),
    sizes: list(values.sizes).map(Number),
    acks: list(values.acks) as Acks[],
    clients: list(values.clients) as Args['clients'],
    rounds: Number(values.rounds),
    replayMib: Number(values['replay-mib']),
    fio: !values['no-fio'],
    warrenArgs: values['warren-args'].split(' ').filter((s) => s !== ''),
    target: values.target,
  };
}

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').trim();

function rss(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** fio: sequential writes of `bs`, fdatasync after each (what a broker's group commit pays), MB/s. */
function fio(dir: string, bs: string): number {
  const out = execFileSync('fio', ['--name=seq-fdatasync', `--directory=${dir}`, '--rw=write', `--bs=${bs}`, '--size=128m', '--fdatasync=1', '--ioengine=sync', '--output-format=json'], { encoding: 'utf8' });
  const job = (JSON.parse(out) as { jobs: Array<{ write: { bw_bytes: number } }> }).jobs[0]!;
  return job.write.bw_bytes / 1e6;
}

/** The disk's own limit, measured with fio in the temp dir (where Warren's data dir is), or why not. */
function diskFigure(): string {
  if (!existsSync('/usr/bin/fio')) return 'fio is not installed (apt-get install fio): the disk figure is skipped';
  const dir = mkdtempSync(join(tmpdir(), 'warren-kafka-bench-fio-'));
  try {
    return `fio sequential write + fdatasync per write (${tmpdir()}): bs=64k ${fmt(fio(dir, '64k'))} MB/s, bs=1m ${fmt(fio(dir, '1m'))} MB/s`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startWarren(dataDir: string, extra: string[]): Promise<Started & { bootstrap: string }> {
  const started = await startProcess(process.execPath, [WARREN_MAIN, 'server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0',
    '--data-dir', dataDir, '--kafka-host', '127.0.0.1', '--kafka-port', '0', '--kafka-auto-create-topics', 'true', ...extra], /Kafka listening on [^\s"]*:(\d+)/, { cwd: dataDir });
  return { ...started, bootstrap: `127.0.0.1:${started.match[1]}` };
}

async function startNull(logRecords: number, recordBytes: number): Promise<Started & { bootstrap: string }> {
  const started = await startProcess(process.execPath, [NULL_ENDPOINT, '--port', '0', '--log-records', String(logRecords), '--record-bytes', String(recordBytes)], /listening on [^\s]*:(\d+)/);
  return { ...started, bootstrap: `127.0.0.1:${started.match[1]}` };
}

const perSecond = (run: Run): number => run.records / run.seconds;
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

async function main(): Promise<void> {
  const args = parse();
  const work = mkdtempSync(join(tmpdir(), 'warren-kafka-bench-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-kafka-bench-data-'));
  const lines: string[] = [];
  const say = (line: string): void => {
    lines.push(line);
    console.log(line);
  };
  say(`loadavg at start: ${loadavg()}`);
  let warren: (Started & { bootstrap: string }) | undefined;
  let nullEndpoint: (Started & { bootstrap: string }) | undefined;
  try {
    if (args.fio) say(diskFigure());
    const replayRecords = args.records;
    nullEndpoint = await startNull(replayRecords, 100);
    warren = args.target === undefined ? await startWarren(dataDir, args.warrenArgs) : { bootstrap: args.target, pid: undefined as unknown as number, stop: async () => undefined } as Started & { bootstrap: string };
    say('');
    say('| client | record | acks | null endpoint records/s | Warren records/s | Warren MB/s | Warren / ceiling |');
    say('| --- | --- | --- | --- | --- | --- | --- |');
    let replayTopic: string | undefined;
    for (const bytes of args.sizes) {
      const records = Math.max(1000, Math.round((args.records * 100) / bytes));
      const file = args.clients.includes('kcat') ? recordFile(work, records, bytes) : '';
      for (const client of args.clients) {
        for (const acks of args.acks) {
          for (let round = 0; round < args.rounds; round++) {
            const topic = `bench-${client}-${bytes}-${acks}-${round}`;
            // kafkajs is about ten times slower than librdkafka: a tenth of the records keeps runs of similar length.
            const produce = (bootstrap: string): Promise<Run> => client === 'kcat' ? kcatProduce(bootstrap, topic, file, records, acks) : kafkajsProduce(bootstrap, topic, Math.max(1000, Math.round(records / 10)), bytes, acks);
            // Alternate which goes first, round by round, so neither always gets the quieter moment.
            const nullFirst = round % 2 === 0;
            const first = await produce(nullFirst ? nullEndpoint.bootstrap : warren.bootstrap);
            const second = await produce(nullFirst ? warren.bootstrap : nullEndpoint.bootstrap);
            const [ceiling, measured] = nullFirst ? [first, second] : [second, first];
            if (client === 'kcat' && bytes === 100 && acks === '1' && round === 0) replayTopic = topic;
            const mbps = (perSecond(measured) * bytes) / 1e6;
            say(`| ${client} | ${bytes} B | ${acks} | ${fmt(perSecond(ceiling))} | ${fmt(perSecond(measured))} | ${fmt(mbps)} | ${Math.round((perSecond(measured) / perSecond(ceiling)) * 100)}% |`);
          }
        }
      }
    }
    if (replayTopic !== undefined) {
      say('');
      const ceiling = await kcatReplay(nullEndpoint.bootstrap, 'replay');
      const before = rss(warren.pid);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rss(warren!.pid))), 100);
      const measured = await kcatReplay(warren.bootstrap, replayTopic);
      clearInterval(sampler);
      say(`replay (kcat -C -o beginning -e, 100 B): null endpoint ${fmt(perSecond(ceiling))} records/s (${ceiling.records} records), Warren ${fmt(perSecond(measured))} records/s (${measured.records} records), ${Math.round((perSecond(measured) / perSecond(ceiling)) * 100)}% of the ceiling; Warren RSS ${fmt(before / 2 ** 20)} -> peak ${fmt(peak / 2 ** 20)} MiB`);
    }
    if (args.replayMib > 0 && args.clients.includes('kcat')) {
      const records = args.replayMib * 1024;
      const file = recordFile(work, records, 1024);
      await kcatProduce(warren.bootstrap, 'bench-replay-large', file, records, '1');
      rmSync(file, { force: true });
      const before = rss(warren.pid);
      let peak = before;
      const samples: number[] = [];
      const sampler = setInterval(() => {
        const now = rss(warren!.pid);
        samples.push(now);
        peak = Math.max(peak, now);
      }, 100);
      const replay = await kcatReplay(warren.bootstrap, 'bench-replay-large');
      clearInterval(sampler);
      const half = samples.slice(Math.floor(samples.length / 2));
      say(`large replay: ${args.replayMib} MiB of 1 KiB records (${replay.records} read) at ${fmt(perSecond(replay))} records/s (${fmt((perSecond(replay) * 1024) / 1e6)} MB/s); Warren RSS before ${fmt(before / 2 ** 20)} MiB, peak ${fmt(peak / 2 ** 20)} MiB, peak in the second half ${fmt(Math.max(0, ...half) / 2 ** 20)} MiB`);
    }
  } finally {
    await warren?.stop();
    await nullEndpoint?.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
  say('');
  say(`loadavg at end: ${loadavg()}`);
}

await main();
