import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/kafka/protocol/reader.js';
import { RawKafkaClient, startKafkaWarren, type KafkaWarren } from './harness.js';

let warren: KafkaWarren;
before(async () => {
  warren = await startKafkaWarren();
});
after(async () => {
  await warren.close();
});

function readRanges(r: Reader, flexible: boolean): Map<number, [number, number]> {
  const ranges = new Map<number, [number, number]>();
  const count = flexible ? r.compactArrayLength() : r.classicArrayLength();
  for (let i = 0; i < count; i++) {
    const key = r.int16();
    ranges.set(key, [r.int16(), r.int16()]);
    if (flexible) r.taggedFields();
  }
  return ranges;
}

test('ApiVersions v0 lists the table, ApiVersions itself as v0-v3', async () => {
  const client = await RawKafkaClient.connect(warren.kafkaPort);
  client.request(18, 0, 41, Buffer.alloc(0));
  const frame = await client.next();
  assert.ok(frame);
  const r = new Reader(frame);
  assert.equal(r.int32(), 41, 'correlation id');
  assert.equal(r.int16(), 0, 'no error');
  const ranges = readRanges(r, false);
  assert.deepEqual(ranges.get(18), [0, 3]);
  assert.equal(r.remaining, 0, 'v0 has no throttle time');
  client.close();
});

test('ApiVersions v3 (flexible request, header v2) is answered with response header v0 and compact arrays', async () => {
  const client = await RawKafkaClient.connect(warren.kafkaPort);
  // client_software_name "t", client_software_version "1", no tagged fields.
  client.request(18, 3, 7, Buffer.from([2, 0x74, 2, 0x31, 0]), true);
  const frame = await client.next();
  assert.ok(frame);
  const r = new Reader(frame, true);
  assert.equal(r.int32(), 7);
  // Response header v0: the error code follows the correlation id at once (no tagged-field byte).
  assert.equal(r.int16(), 0);
  const ranges = readRanges(r, true);
  assert.deepEqual(ranges.get(18), [0, 3]);
  assert.equal(r.int32(), 0, 'throttle_time_ms');
  assert.equal(r.taggedFields().size, 0);
  assert.equal(r.remaining, 0);
  client.close();
});

test('an ApiVersions version Warren does not serve gets the v0 format with UNSUPPORTED_VERSION and the ranges', async () => {
  const client = await RawKafkaClient.connect(warren.kafkaPort);
  client.request(18, 9, 99, Buffer.from([2, 0x74, 2, 0x31, 0, 0, 0, 0, 0]), true);
  const frame = await client.next();
  assert.ok(frame);
  const r = new Reader(frame);
  assert.equal(r.int32(), 99);
  assert.equal(r.int16(), 35, 'UNSUPPORTED_VERSION');
  assert.deepEqual(readRanges(r, false).get(18), [0, 3]);
  assert.equal(r.remaining, 0);
  // The connection stays usable: the client retries with a version from the list.
  client.request(18, 2, 100, Buffer.alloc(0));
  const retry = await client.next();
  assert.ok(retry);
  assert.equal(retry.readInt32BE(0), 100);
  assert.equal(retry.readInt16BE(4), 0);
  client.close();
});

test('an unknown API key closes that connection only; responses come back in request order', async () => {
  const bad = await RawKafkaClient.connect(warren.kafkaPort);
  const good = await RawKafkaClient.connect(warren.kafkaPort);
  bad.request(999, 0, 1, Buffer.alloc(0));
  assert.equal(await bad.next(), undefined);
  assert.ok(bad.closed);
  for (let id = 1; id <= 20; id++) good.request(18, id % 3, id, id % 3 === 0 ? Buffer.alloc(0) : Buffer.alloc(0));
  for (let id = 1; id <= 20; id++) assert.equal((await good.next())?.readInt32BE(0), id);
  good.close();
});

test('a size prefix over the limit or a frame too short for a header closes the connection', async () => {
  const huge = await RawKafkaClient.connect(warren.kafkaPort);
  huge.send(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
  await huge.closedPromise;
  const short = await RawKafkaClient.connect(warren.kafkaPort);
  short.send(Buffer.from([0, 0, 0, 2, 0, 18]));
  await short.closedPromise;
  assert.ok(huge.closed && short.closed);
});
