/**
 * kill -9 of a broker while a publisher appends to a stream queue with confirms: the CLI runs as a child
 * on a temp data dir and is killed at a random moment, three times. After the last restart a consumer
 * reads the stream from `first`: every confirmed message is there, offsets run 0, 1, 2, ... without a
 * gap, and each id appears in the order it was sent (re-sent in-flight ones may appear twice).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp, { type ConsumeMessage } from 'amqplib';
import { cleanEnvironment, runCli, type CliProcess } from '../integration/cli/process.js';
import { waitFor } from '../helpers/wait.js';

const LISTENING = /AMQP listening on (\S+):(\d+)/;
const STREAM = 'crash-stream';
const ROUNDS = 3;

async function startBroker(dataDir: string): Promise<{ cli: CliProcess; url: string }> {
  const cli = runCli(
    ['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir, '--log-level', 'info'],
    cleanEnvironment(),
  );
  const [, , port] = await cli.waitForOutput(LISTENING, 30_000);
  return { cli, url: `amqp://guest:guest@127.0.0.1:${port}` };
}

async function publishUntilKilled(url: string, cli: CliProcess, killAfterMs: number, next: { id: number }, confirmed: Set<number>): Promise<void> {
  const connection = await amqp.connect(url);
  connection.on('error', () => undefined);
  const ch = await connection.createConfirmChannel();
  ch.on('error', () => undefined);
  await ch.assertQueue(STREAM, { durable: true, arguments: { 'x-queue-type': 'stream', 'x-stream-max-segment-size-bytes': 64 * 1024 } });
  let alive = true;
  connection.on('close', () => (alive = false));
  const killer = setTimeout(() => cli.child.kill('SIGKILL'), killAfterMs);
  while (alive) {
    for (let i = 0; i < 50 && alive; i++) {
      const id = next.id++;
      ch.sendToQueue(STREAM, Buffer.from(`${id}:${'x'.repeat(100)}`), {}, (error: unknown) => {
        if (error === null || error === undefined) confirmed.add(id);
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  clearTimeout(killer);
  await cli.exited;
}

test('stream queue: everything confirmed survives kill -9, offsets stay contiguous', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-stream-crash-'));
  const confirmed = new Set<number>();
  const next = { id: 0 };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const { cli, url } = await startBroker(dataDir);
      await publishUntilKilled(url, cli, 300 + Math.floor(Math.random() * 700), next, confirmed);
    }
    assert.ok(confirmed.size > 100, `only ${confirmed.size} confirmed`);
    const { cli, url } = await startBroker(dataDir);
    try {
      const connection = await amqp.connect(url);
      const ch = await connection.createChannel();
      await ch.prefetch(500);
      const { messageCount } = await ch.checkQueue(STREAM);
      const got: ConsumeMessage[] = [];
      await ch.consume(STREAM, (m) => {
        if (m === null) return;
        got.push(m);
        ch.ack(m);
      }, { arguments: { 'x-stream-offset': 'first' } });
      await waitFor(() => got.length === messageCount, `${messageCount} records`, 60_000);
      const offsets = got.map((m) => Number(m.properties.headers?.['x-stream-offset']));
      assert.deepEqual(offsets, Array.from({ length: messageCount }, (_, i) => i), 'offsets 0..n-1 without gaps');
      const ids = got.map((m) => Number(m.content.toString().split(':')[0]));
      const present = new Set(ids);
      const lost = [...confirmed].filter((id) => !present.has(id));
      assert.deepEqual(lost, [], 'no confirmed message lost');
      for (let i = 1; i < ids.length; i++) assert.ok(ids[i]! > ids[i - 1]!, 'ids in the order they were sent');
      await connection.close();
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
