/**
 * Fuzzing the Kafka door's request parser over real sockets: random bytes, lying sizes and counts,
 * unknown API keys and versions, and valid requests of every API with bytes flipped or cut. Each case
 * must end in a response or a closed connection for that client only, never a handler failing on
 * something other than a decode error (logged as "Kafka request handler failed"); a client that
 * behaves keeps being served throughout, and the broker stays up. Seeded, so a failure replays.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startWarren, type TestWarren } from '../helpers/warren.js';
import { RawKafkaClient } from '../integration/kafka/harness.js';
import { Writer } from '../../src/kafka/protocol/writer.js';
import { encodeBatch } from '../../src/kafka/protocol/record-batch.js';
import { KafkaDecodeError, Reader } from '../../src/kafka/protocol/reader.js';
import { decodeRecords, readBatchHeader, splitBatches } from '../../src/kafka/protocol/record-batch.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const failures: string[] = [];
let warren: TestWarren;
let port: number;
before(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.includes('handler failed')) failures.push(line);
      done();
    },
  });
  warren = await startWarren({
    logger: pino({ level: 'error' }, sink),
    configure: (config) => {
      config.kafka = { host: '127.0.0.1', port: 0, vhost: '/', advertisedHost: undefined, advertisedPort: undefined, autoCreateTopics: true, requireSasl: false, maxRequestBytes: 1024 * 1024, defaultPartitions: 1 };
    },
  });
  port = warren.server.kafka!.address.port;
});
after(async () => {
  await warren.close();
});

/** A valid request body for each API at a version, built with the door's own Writer. */
function validBodies(): Array<{ key: number; version: number; flexible: boolean; body: Buffer }> {
  const batch = encodeBatch(0, [{ timestamp: Date.now(), key: Buffer.from('k'), value: Buffer.from('value'), headers: [{ key: 'h', value: Buffer.from('v') }] }]);
  const out: Array<{ key: number; version: number; flexible: boolean; body: Buffer }> = [];
  const add = (key: number, version: number, flexible: boolean, write: (w: Writer) => void): void => {
    const w = new Writer(flexible);
    write(w);
    out.push({ key, version, flexible, body: w.toBuffer() });
  };
  add(0, 7, false, (w) => w.nullableString(null).int16(1).int32(1000).arrayLength(1).string('fuzz').arrayLength(1).int32(0).bytes(batch));
  add(1, 11, false, (w) => w.int32(-1).int32(10).int32(1).int32(1 << 20).int8(0).int32(0).int32(-1).arrayLength(1).string('fuzz').arrayLength(1).int32(0).int32(-1).int64Number(0).int64Number(-1).int32(1 << 20).arrayLength(0).string(''));
  add(1, 12, true, (w) => w.int32(-1).int32(10).int32(1).int32(1 << 20).int8(0).int32(0).int32(-1).arrayLength(1).string('fuzz').arrayLength(1).int32(0).int32(-1).int64Number(0).int32(-1).int64Number(-1).int32(1 << 20).taggedFields().taggedFields().arrayLength(0).string('').taggedFields());
  add(2, 5, false, (w) => w.int32(-1).int8(0).arrayLength(1).string('fuzz').arrayLength(1).int32(0).int32(-1).int64Number(-2));
  add(3, 1, false, (w) => w.arrayLength(1).string('fuzz'));
  add(3, 9, true, (w) => w.arrayLength(1).string('fuzz').taggedFields().boolean(true).boolean(false).boolean(false).taggedFields());
  add(18, 3, true, (w) => w.string('fuzz').string('1').taggedFields());
  add(19, 3, false, (w) => w.arrayLength(1).string('fuzz-created').int32(2).int16(1).arrayLength(0).arrayLength(1).string('retention.ms').nullableString('60000').int32(1000).boolean(false));
  add(19, 7, true, (w) => w.arrayLength(1).string('fuzz-flex').int32(1).int16(-1).arrayLength(0).arrayLength(0).taggedFields().int32(1000).boolean(true).taggedFields());
  add(20, 3, false, (w) => w.arrayLength(1).string('fuzz-missing').int32(1000));
  add(22, 1, false, (w) => w.nullableString(null).int32(1000));
  add(22, 4, true, (w) => w.nullableString(null).int32(1000).int64(-1n).int16(-1).taggedFields());
  add(32, 2, false, (w) => w.arrayLength(1).int8(2).string('fuzz').arrayLength(-1).boolean(false));
  return out;
}

function header(key: number, version: number, correlationId: number, flexible: boolean): Buffer {
  const h = Buffer.alloc(10 + 4);
  h.writeInt16BE(key, 0);
  h.writeInt16BE(version, 2);
  h.writeInt32BE(correlationId, 4);
  h.writeInt16BE(4, 8);
  h.write('fuzz', 10);
  return flexible ? Buffer.concat([h, Buffer.from([0])]) : h;
}

function frame(payload: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length);
  return Buffer.concat([size, payload]);
}

/** Sends `bytes`, then waits for a response or the close (at most `ms`). */
async function probe(bytes: Buffer, ms = 400): Promise<'answered' | 'closed' | 'silent'> {
  const client = await RawKafkaClient.connect(port);
  client.send(bytes);
  const answer = await client.next(ms);
  const outcome = answer !== undefined ? 'answered' : client.closed ? 'closed' : 'silent';
  client.close();
  return outcome;
}

async function brokerServes(good: RawKafkaClient, id: number): Promise<void> {
  good.request(18, 2, id, Buffer.alloc(0));
  const answer = await good.next(3000);
  assert.ok(answer !== undefined && answer.readInt32BE(0) === id, `the well-behaved client is still served (request ${id})`);
}

test('valid requests of every API are answered (the fuzz corpus is sound)', async () => {
  for (const { key, version, flexible, body } of validBodies()) {
    const outcome = await probe(frame(Buffer.concat([header(key, version, 1, flexible), body])), 3000);
    assert.equal(outcome, 'answered', `API ${key} v${version}`);
  }
  assert.deepEqual(failures, []);
});

test('mutated, cut, random and lying requests close or answer that client only; others are served', async () => {
  const random = prng(11);
  const good = await RawKafkaClient.connect(port);
  const corpus = validBodies();
  let id = 1000;
  const outcomes = { answered: 0, closed: 0, silent: 0 };
  for (let round = 0; round < 120; round++) {
    const sample = corpus[Math.floor(random() * corpus.length)]!;
    const request = Buffer.concat([header(sample.key, sample.version, round, sample.flexible), sample.body]);
    let bytes: Buffer;
    switch (round % 6) {
      case 0: {
        // flip a few bytes of the body
        const copy = Buffer.from(request);
        for (let i = 0; i < 1 + Math.floor(random() * 4); i++) copy[14 + Math.floor(random() * (copy.length - 14))] = Math.floor(random() * 256);
        bytes = frame(copy);
        break;
      }
      case 1:
        // cut short, with a size prefix telling the truth about the cut frame
        bytes = frame(request.subarray(0, 8 + Math.floor(random() * (request.length - 8))));
        break;
      case 2: {
        // a size prefix that lies (larger than what follows, then the client goes quiet)
        const lie = Buffer.alloc(4);
        lie.writeInt32BE(request.length + 1 + Math.floor(random() * 1000));
        bytes = Buffer.concat([lie, request]);
        break;
      }
      case 3: {
        // unknown API keys and versions
        const copy = Buffer.from(request);
        if (random() < 0.5) copy.writeInt16BE(100 + Math.floor(random() * 30000), 0);
        else copy.writeInt16BE(sample.version + 50 + Math.floor(random() * 1000), 2);
        bytes = frame(copy);
        break;
      }
      case 4: {
        // random bytes after a plausible header
        const junk = Buffer.alloc(Math.floor(random() * 200));
        for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
        bytes = frame(Buffer.concat([header(sample.key, sample.version, round, sample.flexible), junk]));
        break;
      }
      default: {
        // nothing but noise, size prefix included
        const junk = Buffer.alloc(4 + Math.floor(random() * 64));
        for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
        bytes = junk;
      }
    }
    // A lying size leaves the broker waiting for the rest: silence is the right outcome, no need to wait long.
    outcomes[await probe(bytes, round % 6 === 2 ? 50 : 400)]++;
    if (round % 10 === 9) await brokerServes(good, id++);
  }
  await brokerServes(good, id++);
  good.close();
  assert.deepEqual(failures, [], 'no handler failed other than by a decode error');
  assert.ok(outcomes.answered > 0 && outcomes.closed > 0, JSON.stringify(outcomes));
  // A fresh client after all that is served too.
  const fresh = await RawKafkaClient.connect(port);
  await brokerServes(fresh, 1);
  fresh.close();
});

test('record batch decoding throws only KafkaDecodeError on random and mutated bytes', () => {
  const random = prng(23);
  const batch = encodeBatch(5, [
    { timestamp: 1000, key: Buffer.from('k'), value: Buffer.from('v'), headers: [{ key: 'a', value: null }] },
    { timestamp: 2000, key: null, value: Buffer.alloc(100, 1), headers: [] },
  ]);
  for (let round = 0; round < 2000; round++) {
    const copy = Buffer.from(batch);
    for (let i = 0; i < 1 + Math.floor(random() * 6); i++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    const input = round % 3 === 0 ? copy.subarray(0, Math.floor(random() * copy.length)) : copy;
    try {
      for (const b of splitBatches(input)) {
        const h = readBatchHeader(b);
        decodeRecords({ ...h, count: Math.min(h.count, 10_000) }, b.subarray(61));
      }
    } catch (error) {
      assert.ok(error instanceof KafkaDecodeError, `round ${round}: ${String(error)}`);
    }
  }
  // And the reader itself, on noise, in both modes.
  for (let round = 0; round < 2000; round++) {
    const junk = Buffer.alloc(Math.floor(random() * 40));
    for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(random() * 256);
    const r = new Reader(junk, round % 2 === 0);
    try {
      r.array((x) => [x.string(), x.bytes(), x.varlong(), x.taggedFields()]);
    } catch (error) {
      assert.ok(error instanceof KafkaDecodeError, `reader round ${round}: ${String(error)}`);
    }
  }
});
