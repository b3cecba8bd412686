/**
 * producer-recovery.ts on a MemoryStore's stream log: the bounded tail scan (newest first, whole
 * windows, oldest first out), and a snapshot that does not fit the log (past its end, or whose newest
 * batch is not in the log) is not trusted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { RecordTables } from '../../../src/broker/records.js';
import { MemoryStore } from '../../../src/store/memory-store.js';
import type { StreamLog } from '../../../src/store/store.js';
import { PRODUCER_STATE_TABLE, ProducerRecovery, scanTail, TAIL_SCAN_BYTES } from '../../../src/kafka/producer-recovery.js';
import type { PartitionProducers } from '../../../src/kafka/producer-state.js';
import { idempotentBatch } from '../../integration/kafka/idempotence.js';

async function withLog(fn: (log: StreamLog, store: MemoryStore) => Promise<void>): Promise<void> {
  const store = new MemoryStore();
  await store.open();
  try {
    await fn(store.streamLog('p'), store);
  } finally {
    await store.close();
  }
}

const durable = (store: MemoryStore): Promise<void> => new Promise((resolve) => store.whenDurable(() => resolve()));

/** Appends `count` batches of 2 records of 500 B from producer 7, sequences 0, 2, 4, ... */
async function appendBatches(store: MemoryStore, log: StreamLog, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const batch = idempotentBatch({ producerId: 7n, epoch: 0 }, i * 2, 2, 500);
    batch.writeBigInt64BE(BigInt(log.nextOffset), 0);
    log.appendBatch(batch, 2);
    await durable(store);
  }
}

test('scanTail reads the newest batches within its budget, oldest first, up to the end', async () => {
  await withLog(async (log, store) => {
    await appendBatches(store, log, 20);
    const all = await scanTail(log, 0, 1 << 20);
    assert.deepEqual([all.from, all.batches.length], [0, 20], 'a budget above the log: everything');
    const some = await scanTail(log, 0, 5000);
    assert.ok(some.from > 0 && some.batches.length < 20, `a small budget scans a tail (from ${some.from}, ${some.batches.length} batches)`);
    const first = some.batches[0]!.offset;
    assert.ok(first >= some.from && first < some.from + 2, `the first batch (${first}) is the first that starts at or after ${some.from}`);
    assert.deepEqual(some.batches.map((b) => b.offset), Array.from({ length: some.batches.length }, (_, i) => first + i * 2), 'contiguous, oldest first');
    assert.equal(some.batches[some.batches.length - 1]!.offset, 38, 'reaching the newest');
    const bytes = some.batches.reduce((n, b) => n + b.body.length, 0);
    assert.ok(bytes <= 5000, `${bytes} bytes read back within the budget`);
    assert.deepEqual((await scanTail(log, 30, 1 << 20)).batches.map((b) => b.offset), [30, 32, 34, 36, 38], 'not below the floor');
  });
});

test('a snapshot past the log end or naming batches the log does not hold is not used; batches past the end are not remembered', async () => {
  await withLog(async (log, store) => {
    await appendBatches(store, log, 2); // offsets 0 and 2, sequences 0-1 and 2-3
    const records = new RecordTables();
    const logger = pino({ level: 'silent' });
    const recover = async (snapshot: unknown): Promise<PartitionProducers | undefined> => {
      records.put('/', PRODUCER_STATE_TABLE, log.name, 'partition', snapshot);
      const partitions = new Map<string, PartitionProducers>();
      const recovery = new ProducerRecovery(partitions, { records, vhost: '/', logger });
      await recovery.whenRecovered(log);
      recovery.close();
      return partitions.get(log.name);
    };
    // Past the end: another log's. Its producer 9 is not taken; the scan finds producer 7.
    const foreign = await recover({ offset: 100, producers: [['9', 0, [[0, 9, 50]]]] });
    assert.deepEqual([...foreign!.keys()], [7n]);
    assert.equal(foreign!.get(7n)!.lastSequence, 3);
    // Covering offset 4 (the whole log) but naming a batch at 4 that is not there: it is dropped.
    const ahead = await recover({ offset: 4, producers: [['8', 0, [[0, 1, 0], [2, 3, 4]]], ['7', 0, [[0, 1, 0], [2, 3, 2]]]] });
    assert.deepEqual(ahead!.get(8n), { epoch: 0, lastSequence: 1, recent: [{ firstSequence: 0, lastSequence: 1, baseOffset: 0 }] });
    assert.equal(ahead!.get(7n)!.lastSequence, 3);
    // A snapshot whose newest batch is not that producer's in this log: another log's of that name.
    const other = await recover({ offset: 4, producers: [['9', 0, [[0, 1, 2]]]] });
    assert.deepEqual([...other!.keys()], [7n], 'not used: the scan alone finds producer 7');
  });
});

test('when the scan cannot reach back to the snapshot, the snapshot producers it did not see are dropped', async () => {
  await withLog(async (log, store) => {
    await appendBatches(store, log, 1); // producer 7 at offset 0, sequences 0-1
    const records = new RecordTables();
    records.put('/', PRODUCER_STATE_TABLE, log.name, 'partition', { offset: 2, producers: [['7', 0, [[0, 1, 0]]]] });
    // Producer 8 then writes more than the scan reads back.
    for (let sequence = 0, bytes = 0; bytes <= TAIL_SCAN_BYTES; sequence += 1000) {
      const batch = idempotentBatch({ producerId: 8n, epoch: 0 }, sequence, 1000, 1000);
      batch.writeBigInt64BE(BigInt(log.nextOffset), 0);
      log.appendBatch(batch, 1000);
      bytes += batch.length;
    }
    await durable(store);
    const partitions = new Map<string, PartitionProducers>();
    const recovery = new ProducerRecovery(partitions, { records, vhost: '/', logger: pino({ level: 'silent' }) });
    await recovery.whenRecovered(log);
    recovery.close();
    assert.deepEqual([...partitions.get(log.name)!.keys()], [8n], 'producer 7 may have written in the part not read: it starts afresh');
    assert.equal(partitions.get(log.name)!.get(8n)!.recent.length, 5);
  });
});
