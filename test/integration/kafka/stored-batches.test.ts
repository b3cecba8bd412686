/**
 * Produced record batches are stored as they came (stored-batches.ts, FORMAT.md "batch chunk"): a raw
 * Produce's batches come back from a raw Fetch byte for byte, but for the baseOffset the log gave them,
 * also after a broker restart; batches whose header lies about their records are CORRUPT_MESSAGE.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c } from '../../../src/kafka/protocol/crc32c.js';
import { Reader } from '../../../src/kafka/protocol/reader.js';
import { Writer } from '../../../src/kafka/protocol/writer.js';
import { encodeBatch } from '../../../src/kafka/protocol/record-batch.js';
import { RawKafkaClient, startKafkaWarren, type KafkaWarren } from './harness.js';

const closers: Array<() => Promise<unknown>> = [];
after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

async function exchange(warren: KafkaWarren, apiKey: number, version: number, body: Buffer): Promise<Reader> {
  const client = await RawKafkaClient.connect(warren.kafkaPort);
  try {
    client.request(apiKey, version, 1, body);
    const frame = await client.next();
    assert.ok(frame, 'answered, not dropped');
    const r = new Reader(frame);
    r.int32(); // correlation id
    return r;
  } finally {
    client.close();
  }
}

/** Produce v7, acks=all, of `records` to partition 0: its error code and base offset. */
async function produce(warren: KafkaWarren, topic: string, records: Buffer): Promise<{ error: number; baseOffset: bigint }> {
  const body = new Writer(false).nullableString(null).int16(-1).int32(5000).arrayLength(1).string(topic).arrayLength(1).int32(0).bytes(records).toBuffer();
  const r = await exchange(warren, 0, 7, body);
  r.classicArrayLength();
  r.classicString();
  r.classicArrayLength();
  r.int32();
  return { error: r.int16(), baseOffset: r.int64() };
}

/** Fetch v4 of partition 0 from `offset`: the record set as sent. */
async function fetchSet(warren: KafkaWarren, topic: string, offset: number): Promise<Buffer> {
  const body = new Writer(false).int32(-1).int32(0).int32(1).int32(1 << 20).int8(0)
    .arrayLength(1).string(topic).arrayLength(1).int32(0).int64Number(offset).int32(1 << 20).toBuffer();
  const r = await exchange(warren, 1, 4, body);
  r.int32(); // throttle
  r.classicArrayLength();
  r.classicString();
  r.classicArrayLength();
  r.int32(); // partition
  assert.equal(r.int16(), 0, 'no error');
  r.int64(); // high watermark
  r.int64(); // last stable offset
  const aborted = r.int32();
  assert.ok(aborted <= 0);
  return r.bytes() ?? Buffer.alloc(0);
}

const record = (value: string) => ({ timestamp: 1_700_000_000_000, key: Buffer.from(`k-${value}`), value: Buffer.from(value), headers: [{ key: 'h', value: Buffer.from(value) }] });

/** `batch` with its CRC-32C recomputed (after a deliberate change of what it covers). */
function recrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}

test('raw batches are fetched back byte for byte with the log\'s offsets, also after a restart; lying batches are refused', async () => {
  const first = await startKafkaWarren({ kafka: { autoCreateTopics: true } });
  let second: KafkaWarren | undefined;
  closers.push(() => (second ?? first).close());
  const a = encodeBatch(777, [record('a0'), record('a1')]); // a producer's own baseOffset: the log replaces it
  const b = encodeBatch(0, [record('b0'), record('b1'), record('b2')]);
  assert.deepEqual(await produce(first, 'raw', Buffer.concat([a, b])), { error: 0, baseOffset: 0n });
  const expected = Buffer.concat([a, b]);
  expected.writeBigInt64BE(0n, 0);
  expected.writeBigInt64BE(2n, a.length);
  assert.deepEqual(await fetchSet(first, 'raw', 0), expected, 'the stored batches, baseOffsets 0 and 2');

  // A fetch from inside the second batch gets the records from there on (re-encoded), not the batch.
  const inside = await fetchSet(first, 'raw', 3);
  assert.equal(inside.readBigInt64BE(0), 3n);
  assert.equal(inside.readInt32BE(57), 2, 'two records: b1, b2');

  // Header and records disagree: the count is not lastOffsetDelta + 1; a record length runs past the batch.
  const badCount = Buffer.from(b);
  badCount.writeInt32BE(5, 23); // lastOffsetDelta
  assert.equal((await produce(first, 'raw', recrc(badCount))).error, 2, 'CORRUPT_MESSAGE');
  const badLength = Buffer.from(b);
  badLength.writeUInt8(0x7e, 61); // first record's length varint: 63, past what follows
  assert.equal((await produce(first, 'raw', recrc(badLength))).error, 2, 'CORRUPT_MESSAGE');
  assert.deepEqual(await fetchSet(first, 'raw', 0), expected, 'nothing of the refused batches was appended');

  const dataDir = first.dataDir;
  await first.stop();
  second = await startKafkaWarren({ dataDir, kafka: { autoCreateTopics: true } });
  assert.deepEqual(await fetchSet(second, 'raw', 0), expected, 'the same bytes after a restart');
  assert.deepEqual(await produce(second, 'raw', encodeBatch(0, [record('c0')])), { error: 0, baseOffset: 5n }, 'offsets continue');
});
