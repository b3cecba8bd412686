import { PerfConnection } from './client.js';
import { parseAmqpUrl } from './url.js';

export interface DeclareStormOptions {
  url: string;
  count: number;
  /** Send every queue.declare before reading any declare-ok (false: one round trip each, like most apps). */
  pipelined: boolean;
  durable: boolean;
  queuePrefix: string;
}

export interface DeclareStormResult {
  count: number;
  declareS: number;
  declaresPerS: number;
  deleteS: number;
}

/** Declares `count` queues on one channel, timing it, then deletes them (timed separately). */
export async function runDeclareStorm(o: DeclareStormOptions): Promise<DeclareStormResult> {
  const connection = await PerfConnection.connect(parseAmqpUrl(o.url), { connectionName: 'perf declare storm' });
  try {
    const channel = await connection.openChannel();
    const names = Array.from({ length: o.count }, (_, i) => `${o.queuePrefix}-storm-${i}`);
    const declareStart = performance.now();
    if (o.pipelined) {
      await Promise.all(names.map((name) => channel.declareQueue(name, { durable: o.durable })));
    } else {
      for (const name of names) await channel.declareQueue(name, { durable: o.durable });
    }
    const declareS = (performance.now() - declareStart) / 1000;
    const deleteStart = performance.now();
    await Promise.all(names.map((name) => channel.deleteQueue(name)));
    const deleteS = (performance.now() - deleteStart) / 1000;
    await channel.close();
    return { count: o.count, declareS, declaresPerS: o.count / declareS, deleteS };
  } finally {
    await connection.close();
  }
}
