/**
 * kill -9 while writing: a child process appends (and acks some) with whenDurable and prints each
 * confirmed batch; the parent kills it at a random moment, reopens the store and checks that every
 * confirmed, unacked id is there, once, in order. This file is also the child (WARREN_STORE_CHILD set).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../../src/store/log-store.js';
import { assertConfirmedInOrder } from '../helpers/confirmed.js';

const CHILD_DIR = process.env.WARREN_STORE_CHILD;
// Most messages are acked so that segments die and get compacted while the child is being killed.
const ACKED = (id: number): boolean => id % 5 !== 0;

if (CHILD_DIR) void runChild(CHILD_DIR, Number(process.env.WARREN_STORE_FIRST_ID ?? 0));
else defineTest();

async function runChild(dir: string, firstId: number): Promise<void> {
  const store = new LogStore({ dataDir: dir, segmentBytes: 256 * 1024, maintenanceIntervalMs: 10 });
  await store.open();
  const q = store.stream('/crash');
  const header = Buffer.from('hdr');
  let id = firstId;
  for (;;) {
    const from = id;
    for (let i = 0; i < 200; i++, id++) {
      const body = Buffer.alloc(300, id & 0xff);
      body.writeUInt32LE(id, 0);
      const handle = q.append(header, body);
      if (ACKED(id)) q.remove(handle);
    }
    await new Promise<void>((resolve, reject) => store.whenDurable((error) => (error ? reject(error) : resolve())));
    process.stdout.write(`${from} ${id}\n`);
  }
}

function defineTest(): void {
  test('every confirmed message survives kill -9, in order, across repeated crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'warren-store-crash-'));
    const confirmed: number[] = [];
    let nextId = 0;
    try {
      for (let round = 0; round < 4; round++) {
        const ranges = await runAndKill(dir, nextId, 150 + Math.floor(Math.random() * 500));
        for (const [from, to] of ranges) for (let id = from; id < to; id++) if (!ACKED(id)) confirmed.push(id);
        const recovered = await recoverIds(dir);
        assertConfirmedInOrder(recovered, confirmed);
        nextId = recovered.reduce((max, id) => Math.max(max, id), nextId) + 1000;
      }
      assert.ok(confirmed.length > 300, `confirmed ${confirmed.length}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

async function runAndKill(dir: string, firstId: number, afterMs: number): Promise<Array<[number, number]>> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
    env: { ...process.env, WARREN_STORE_CHILD: dir, WARREN_STORE_FIRST_ID: String(firstId) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  await waitForOutput(() => output.length > 0, 10_000);
  await new Promise((resolve) => setTimeout(resolve, afterMs));
  child.kill('SIGKILL');
  await exited;
  return output
    .split('\n')
    .filter((line) => /^\d+ \d+$/.test(line))
    .map((line) => line.split(' ').map(Number) as [number, number]);
}

async function waitForOutput(ready: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error('child never confirmed anything');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function recoverIds(dir: string): Promise<number[]> {
  const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
  const state = await store.open();
  try {
    const queue = state.streams.find((q) => q.stream.name === '/crash');
    return Array.from(queue?.handles ?? [], (h) => {
      const body = store.readNow(h).body;
      const id = body.readUInt32LE(0);
      assert.equal(body[299], id & 0xff, `body of ${id} intact`);
      return id;
    });
  } finally {
    await store.close();
  }
}
