/**
 * Server CPU per action, measured on a server that only this script loads (figures that a busy
 * machine bends less than throughput): N sequential calls of each action through the lean client,
 * the server's CPU time read from /proc/PID/stat before and after.
 *
 *   node dist/bench/sqs/action-cost.js <endpoint> <pid> [calls=2000] [accessKey=guest] [secret=guest]
 */
import { readFileSync } from 'node:fs';
import { LeanSqsClient } from './lean-client.js';

function cpu(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

async function main(): Promise<void> {
  const [endpoint, pidText, callsText, key, secret] = process.argv.slice(2);
  const pid = Number(pidText);
  const calls = Number(callsText ?? 2000);
  const sqs = new LeanSqsClient(endpoint!, { accessKeyId: key ?? 'guest', secretAccessKey: secret ?? 'guest' });
  const { QueueUrl } = await sqs.call<{ QueueUrl: string }>('CreateQueue', { QueueName: `cost-${Date.now()}` });
  for (let pass = 1; pass <= 2; pass++) {
  console.log(pass === 1 ? '# pass 1 (cold: JIT warming up)' : '# pass 2');
  const measure = async (name: string, fn: (i: number) => Promise<unknown>): Promise<void> => {
    const concurrency = 8;
    const before = cpu(pid);
    const started = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < calls) await fn(next++);
    }));
    const after = cpu(pid);
    const us = (seconds: number): string => ((seconds * 1e6) / calls).toFixed(0).padStart(6);
    console.log(`${name.padEnd(28)} ${us(after.user - before.user + after.system - before.system)} us server CPU per call (user ${us(after.user - before.user)}, system ${us(after.system - before.system)}), ${((calls * 1000) / (Date.now() - started)).toFixed(0)} calls/s`);
  };
  const body = 'x'.repeat(100);
  await measure('SendMessageBatch(10)', () => sqs.call('SendMessageBatch', { QueueUrl, Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: body })) }));
  const handles: string[][] = [];
  await measure('ReceiveMessage(10)', async () => {
    const got = await sqs.call<{ Messages?: Array<{ ReceiptHandle: string }> }>('ReceiveMessage', { QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 });
    handles.push((got.Messages ?? []).map((m) => m.ReceiptHandle));
  });
  await measure('DeleteMessageBatch(10)', (i) => {
    const batch = handles[i] ?? [];
    return batch.length === 0 ? Promise.resolve() : sqs.call('DeleteMessageBatch', { QueueUrl, Entries: batch.map((h, j) => ({ Id: `d${j}`, ReceiptHandle: h })) });
  });
  await measure('GetQueueUrl (baseline)', () => sqs.call('GetQueueUrl', { QueueName: QueueUrl.split('/').pop() }));
  }
  sqs.destroy();
}

void main();
