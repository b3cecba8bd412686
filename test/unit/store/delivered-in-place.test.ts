import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LogStore } from '../../../src/store/log-store.js';
import { FILE_HEADER_SIZE, RECORD_PREFIX, RecordType } from '../../../src/store/record.js';
import { removeDir, tempDir } from './fixtures.js';
import { durable, queueNamed } from './store-suite.js';

/** How many records of each type the segment files hold. */
function recordTypes(dir: string): Map<number, number> {
  const counts = new Map<number, number>();
  const segments = join(dir, 'segments');
  for (const name of readdirSync(segments)) {
    const bytes = readFileSync(join(segments, name));
    for (let at = FILE_HEADER_SIZE; at + RECORD_PREFIX < bytes.length; at += RECORD_PREFIX + bytes.readUInt32LE(at + 4)) {
      const type = bytes[at + RECORD_PREFIX]!;
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
  }
  return counts;
}

test('a message delivered while its record is the newest gets its flag set in place, no Deliver record', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    await store.open();
    const q = store.stream('/q');
    const body = (n: number): Buffer => Buffer.alloc(40, n);
    const a = q.append(Buffer.from('h'), body(1));
    q.markDelivered(a);
    const [readBack] = await q.read([a]);
    assert.deepEqual(readBack?.body, body(1), 'a read of the unsealed record seals it and checks its CRC');
    const b = q.append(Buffer.from('h'), body(2));
    q.markDelivered(b);
    q.markDelivered(a);
    q.append(Buffer.from('h'), body(3));
    const d = q.append(Buffer.from('h'), body(4));
    q.append(Buffer.from('h'), body(5));
    q.markDelivered(d);
    await durable(store);
    await store.close();

    const types = recordTypes(dir);
    assert.equal(types.get(RecordType.Message), 5);
    assert.equal(types.get(RecordType.Deliver), 1, 'only the message delivered after a newer one was appended');

    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const state = await again.open();
    const recovered = queueNamed(state, '/q');
    assert.deepEqual(Array.from(recovered?.delivered ?? []), [1, 1, 0, 1, 0]);
    const bodies = await recovered!.stream.read(Array.from(recovered!.handles));
    assert.deepEqual(bodies.map((m) => m.body[0]), [1, 2, 3, 4, 5]);
    await again.close();
  } finally {
    removeDir(dir);
  }
});

test('a record written past the write buffer, or followed by a fanout, is delivered with a Deliver record', async () => {
  const dir = tempDir();
  try {
    const store = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0, writeBufferBytes: 2048 });
    await store.open();
    const q = store.stream('/q');
    const other = store.stream('/other');
    const big = q.append(Buffer.from('h'), Buffer.alloc(4096, 7));
    q.markDelivered(big);
    const shared = q.append(Buffer.from('h'), Buffer.alloc(10, 8));
    assert.equal(other.share(shared), true);
    q.markDelivered(shared);
    await durable(store);
    await store.close();

    assert.equal(recordTypes(dir).get(RecordType.Deliver), 2);
    const again = new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 });
    const state = await again.open();
    assert.deepEqual(Array.from(queueNamed(state, '/q')?.delivered ?? []), [1, 1]);
    await again.close();
  } finally {
    removeDir(dir);
  }
});
