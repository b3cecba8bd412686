/**
 * Fuzzing the codec: random bytes and mutated valid streams must only ever produce frames or
 * FrameDecodeError (a ConnectionError), and must always finish. Seeded; set CODEC_SEED to replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectionError } from '../../src/amqp/errors.js';
import {
  FrameDecodeError,
  FrameParser,
  FrameWriter,
  MethodId,
  amqpProtocolHeader,
  decodeFieldTable,
  decodeProperties,
  encodeFieldTable,
  encodeProperties,
} from '../../src/amqp/codec/index.js';
import { int, randomBytes, randomMethod, randomProperties, randomTable, testSeed, withSeed, type Rng } from '../unit/codec/random.js';
import { randomPieces } from '../unit/codec/frames-helper.js';

const TIME_BUDGET_MS = 1500;

function validStream(rng: Rng): Buffer {
  const w = new FrameWriter();
  const n = int(rng, 1, 12);
  for (let i = 0; i < n; i++) {
    const kind = int(rng, 0, 2);
    if (kind === 0) w.writeHeartbeat();
    else if (kind === 1) w.writeMethod(int(rng, 0, 3), randomMethod(rng));
    else w.writeContent(1, randomMethod(rng, MethodId.BasicPublish), randomProperties(rng), undefined, randomBytes(rng, 200), 4096);
  }
  return w.take();
}

function mutate(rng: Rng, input: Buffer): Buffer {
  const b = Buffer.from(input);
  const edits = int(rng, 1, 4);
  let out = b;
  for (let i = 0; i < edits && out.length > 0; i++) {
    const at = int(rng, 0, out.length - 1);
    switch (int(rng, 0, 3)) {
      case 0:
        out[at] = int(rng, 0, 255);
        break;
      case 1:
        out[at] = out[at]! ^ (1 << int(rng, 0, 7));
        break;
      case 2:
        out = out.subarray(0, at);
        break;
      default:
        out = Buffer.concat([out.subarray(0, at), randomBytes(rng, 8), out.subarray(at)]);
    }
  }
  return out;
}

/** Feeds `input` in random pieces; returns normally or with a FrameDecodeError, and never loops forever. */
function feed(rng: Rng, input: Buffer, withHeader: boolean): void {
  const parser = new FrameParser(
    { onFrame: () => undefined, onProtocolHeader: () => undefined },
    { frameMax: int(rng, 0, 1) === 0 ? 4096 : 131072, expectProtocolHeader: withHeader },
  );
  const pieces = randomPieces(rng, input, 64);
  pieces.push(Buffer.alloc(0));
  for (const piece of pieces) {
    // A non-fatal error leaves the rest of the input pending; each retry consumes at least one frame.
    for (let attempt = 0; attempt <= input.length + 1; attempt++) {
      try {
        parser.push(attempt === 0 ? Buffer.from(piece) : Buffer.alloc(0));
        break;
      } catch (err) {
        if (!(err instanceof FrameDecodeError) || !(err instanceof ConnectionError)) throw err;
        assert.ok([501, 502, 505, 540].includes(err.replyCode), `unexpected reply code ${err.replyCode}`);
        if (parser.stoppedReading) return;
        assert.ok(attempt < input.length + 1, 'parser made no progress');
      }
    }
  }
}

function fuzzFor(budgetMs: number, rng: Rng, round: (rng: Rng) => void): number {
  const deadline = Date.now() + budgetMs;
  let rounds = 0;
  while (rounds < 200 || Date.now() < deadline) {
    round(rng);
    rounds++;
    if (rounds >= 20000) break;
  }
  return rounds;
}

test('random bytes only ever yield frames or FrameDecodeError', () => {
  withSeed(testSeed(), (rng) => {
    fuzzFor(TIME_BUDGET_MS / 3, rng, (r) => {
      const header = r() < 0.5 ? amqpProtocolHeader() : Buffer.alloc(0);
      feed(r, Buffer.concat([header, randomBytes(r, 300)]), header.length > 0 || r() < 0.3);
    });
  });
});

test('mutated valid streams only ever yield frames or FrameDecodeError', () => {
  withSeed(testSeed(), (rng) => {
    fuzzFor(TIME_BUDGET_MS / 3, rng, (r) => feed(r, mutate(r, validStream(r)), false));
  });
});

test('mutated tables and property lists only ever decode or throw FrameDecodeError', () => {
  withSeed(testSeed(), (rng) => {
    fuzzFor(TIME_BUDGET_MS / 3, rng, (r) => {
      const tableBytes = mutate(r, encodeFieldTable(randomTable(r)));
      const propertyBytes = mutate(r, encodeProperties(randomProperties(r)));
      for (const [decode, bytes] of [
        [decodeFieldTable, tableBytes],
        [decodeProperties, propertyBytes],
      ] as const) {
        try {
          decode(bytes);
        } catch (err) {
          assert.ok(err instanceof FrameDecodeError, `threw ${String(err)}`);
          assert.equal(err.replyCode, 502);
        }
      }
    });
  });
});

test('deeply nested tables are refused with 502, not a stack overflow', () => {
  let inner = Buffer.alloc(0);
  for (let depth = 0; depth < 5000; depth++) {
    const entry = Buffer.concat([Buffer.from([1, 0x6b, 0x46]), Buffer.alloc(4), inner]);
    entry.writeUInt32BE(inner.length, 3);
    inner = entry;
  }
  const table = Buffer.concat([Buffer.alloc(4), inner]);
  table.writeUInt32BE(inner.length, 0);
  assert.throws(() => decodeFieldTable(table), (err) => err instanceof FrameDecodeError && err.replyCode === 502);
});
