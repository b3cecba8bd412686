/**
 * The clients the Kafka benchmark drives, each in its own process (so a client never shares a thread
 * with a broker or with this script): librdkafka through Debian's kcat, and kafkajs through
 * bench/kafka/kafkajs-producer.ts.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runToEnd } from './processes.js';

export type Acks = '1' | 'all';

export interface Run {
  records: number;
  seconds: number;
}

/** A file of `count` lines of `bytes` characters: kcat -P -l sends each line (without '\n') as one record. */
export function recordFile(dir: string, count: number, bytes: number): string {
  const path = join(dir, `records-${bytes}-${count}.txt`);
  const line = Buffer.alloc(bytes + 1, 0x61);
  line[bytes] = 10;
  const block = Buffer.concat(new Array<Buffer>(Math.min(count, 1000)).fill(line));
  // Written block by block: a --replay-mib 10240 file is larger than a Buffer may be.
  const fd = openSync(path, 'w');
  try {
    for (let left = count; left > 0; left -= 1000) writeSync(fd, left >= 1000 ? block : block.subarray(0, left * (bytes + 1)));
  } finally {
    closeSync(fd);
  }
  return path;
}

/** librdkafka's batching settings, the same against every endpoint. */
export const KCAT_PRODUCER_SETTINGS = ['linger.ms=5', 'batch.num.messages=10000', 'batch.size=1000000', 'queue.buffering.max.messages=1000000', 'queue.buffering.max.kbytes=1048576', 'compression.codec=none'];

export async function kcatProduce(bootstrap: string, topic: string, file: string, records: number, acks: Acks): Promise<Run> {
  const settings = [...KCAT_PRODUCER_SETTINGS, `acks=${acks}`].flatMap((s) => ['-X', s]);
  const { seconds } = await runToEnd('kcat', ['-P', '-q', '-b', bootstrap, '-t', topic, '-p', '0', ...settings, '-l', file]);
  return { records, seconds };
}

/** Reads partition 0 from the beginning to its end (-e), one output line per record. */
export async function kcatReplay(bootstrap: string, topic: string): Promise<Run> {
  const { lines, seconds } = await runToEnd('kcat', ['-C', '-q', '-e', '-b', bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-f', '%o\\n',
    '-X', 'fetch.max.bytes=52428800', '-X', 'queued.max.messages.kbytes=262144'], { stdout: 'count-lines' });
  return { records: lines, seconds };
}

const KAFKAJS_PRODUCER = fileURLToPath(new URL('./kafkajs-producer.js', import.meta.url));

export async function kafkajsProduce(bootstrap: string, topic: string, records: number, bytes: number, acks: Acks): Promise<Run> {
  const { stdout } = await runToEnd(process.execPath, [KAFKAJS_PRODUCER, bootstrap, topic, String(records), String(bytes), acks === 'all' ? '-1' : '1']);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Run;
}
