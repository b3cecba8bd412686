/**
 * One load role of the SQS benchmark (bench/sqs.ts), in a worker thread of its own with its own
 * LeanSqsClient (keep-alive sockets). Roles share counters through a SharedArrayBuffer:
 *   [0] messages sent, [1] messages deleted, [2] receive calls (Int32, updated with Atomics), read by producers to bound the backlog and by
 *   the main thread to compute the rate over the measured window.
 *
 * Roles:
 *   produce          `loops` concurrent SendMessageBatch(10 x 100 B) while the backlog is below `backlog`
 *   consume          `loops` concurrent ReceiveMessage(10, WaitTimeSeconds 1) + DeleteMessageBatch
 *   send-rate        SendMessage at `rate` per second, each body the wall-clock ms just before the call
 *   receive-latency  `loops` concurrent ReceiveMessage(10, WaitTimeSeconds 20) + DeleteMessageBatch;
 *                    records now - body for every message sent at or after `sampleFrom` (warm-up excluded)
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { LeanSqsClient, type LeanCredentials } from './lean-client.js';

export interface RoleOptions {
  role: 'produce' | 'consume' | 'send-rate' | 'receive-latency';
  endpoint: string;
  credentials: LeanCredentials;
  queueUrl: string;
  loops: number;
  rate: number;
  backlog: number;
  /** Wall-clock ms: receive-latency samples only messages sent from then on. */
  sampleFrom: number;
  counters: SharedArrayBuffer;
  /** Wall-clock ms (performance.timeOrigin + now) the load stops at; the main thread sets it through `stop`. */
  stopAt: SharedArrayBuffer;
}

interface ReceiveAnswer {
  Messages?: Array<{ Body: string; ReceiptHandle: string }>;
}

const BODY = 'x'.repeat(100);
const now = (): number => performance.timeOrigin + performance.now();

async function run(options: RoleOptions): Promise<unknown> {
  const counters = new Int32Array(options.counters);
  const sent = (n: number): void => void Atomics.add(counters, 0, n);
  const deleted = (n: number): void => void Atomics.add(counters, 1, n);
  const stop = new Float64Array(options.stopAt);
  const running = (): boolean => now() < stop[0]!;
  const sqs = new LeanSqsClient(options.endpoint, options.credentials, 'us-east-1', options.role === 'send-rate' ? 1024 : options.loops + 4);
  let errors = 0;
  let firstError: string | undefined;
  const failed = (error: unknown): void => {
    errors++;
    firstError ??= String(error).slice(0, 300);
  };
  const loops = (body: () => Promise<void>): Promise<void[]> => Promise.all(Array.from({ length: options.loops }, async () => {
    while (running()) {
      try {
        await body();
      } catch (error) {
        failed(error);
        await sleep(10);
      }
    }
  }));
  const deleteAll = async (messages: Array<{ ReceiptHandle: string }>): Promise<void> => {
    const answer = await sqs.call<{ Failed?: unknown[] }>('DeleteMessageBatch', { QueueUrl: options.queueUrl, Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })) });
    if ((answer.Failed?.length ?? 0) > 0) failed(`DeleteMessageBatch failed entries: ${JSON.stringify(answer.Failed).slice(0, 200)}`);
  };

  if (options.role === 'produce') {
    let n = 0;
    await loops(async () => {
      if (Atomics.load(counters, 0) - Atomics.load(counters, 1) > options.backlog) return sleep(1);
      const answer = await sqs.call<{ Failed?: unknown[] }>('SendMessageBatch', { QueueUrl: options.queueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `${n++}-${BODY}` })) });
      sent(10 - (answer.Failed?.length ?? 0));
    });
  } else if (options.role === 'consume') {
    await loops(async () => {
      const got = await sqs.call<ReceiveAnswer>('ReceiveMessage', { QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 });
      const messages = got.Messages ?? [];
      Atomics.add(counters, 2, 1);
      if (messages.length === 0) return;
      await deleteAll(messages);
      deleted(messages.length);
    });
  } else if (options.role === 'send-rate') {
    const interval = 1000 / options.rate;
    const started = now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; running(); i++) {
      const wait = started + i * interval - now();
      if (wait > 0.5) await sleep(wait);
      sends.push(sqs.call('SendMessage', { QueueUrl: options.queueUrl, MessageBody: String(now()) }).then(() => sent(1), failed));
    }
    await Promise.all(sends);
  } else {
    const samples: number[] = [];
    // Go on until the senders stopped and nothing came for 1 s, so a server that fell behind shows its backlog's latency.
    let lastGot = now();
    const draining = (): boolean => !running() && now() - lastGot >= 1000;
    // Then the long polls still waiting (up to 20 s) are cut off: their sockets close, which ends them at once.
    let drained = false;
    const cutOff = setInterval(() => {
      if (!draining()) return;
      drained = true;
      clearInterval(cutOff);
      sqs.destroy();
    }, 100);
    await Promise.all(Array.from({ length: options.loops }, async () => {
      while (!draining()) {
        try {
          const got = await sqs.call<ReceiveAnswer>('ReceiveMessage', { QueueUrl: options.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: running() ? 20 : 1 });
          const at = now();
          const messages = got.Messages ?? [];
          if (messages.length === 0) continue;
          lastGot = at;
          for (const m of messages) {
            const sentAt = Number(m.Body);
            if (sentAt >= options.sampleFrom) samples.push(at - sentAt);
          }
          deleted(messages.length);
          void deleteAll(messages).catch((error: unknown) => drained || failed(error));
        } catch (error) {
          if (drained) return;
          failed(error);
          await sleep(10);
        }
      }
    }));
    clearInterval(cutOff);
    sqs.destroy();
    return { samples, errors, firstError };
  }
  sqs.destroy();
  return { errors, firstError };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (parentPort !== null) {
  run(workerData as RoleOptions).then(
    (result) => parentPort!.postMessage(result),
    (error: unknown) => parentPort!.postMessage({ errors: 1, firstError: String(error) }),
  );
}
