/**
 * Fuzzing the shovel and federation definition parsers and the URI redaction: random JSON and mutated
 * valid definitions must only ever be accepted or refused with a BrokerError (the management API's
 * 400 with a reason), never crash; redaction never lets a password through. Seeded; CODEC_SEED replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerError } from '../../src/broker/errors.js';
import { parseShovel } from '../../src/shovel/definition.js';
import { parseUpstream, parseUpstreamSet } from '../../src/federation/upstream.js';
import { redactSecrets, redactUri } from '../../src/util/uri-secrets.js';
import { int, pick, randomString, testSeed, withSeed, type Rng } from '../unit/codec/random.js';

const KEYS = [
  'src-uri', 'src-queue', 'src-exchange', 'src-exchange-key', 'src-prefetch-count', 'src-delete-after', 'dest-uri', 'dest-queue',
  'dest-exchange', 'dest-exchange-key', 'dest-publish-properties', 'dest-add-forward-headers', 'ack-mode', 'reconnect-delay',
  'uri', 'max-hops', 'expires', 'message-ttl', 'prefetch-count', 'exchange', 'queue', 'upstream', 'src-protocol',
];

function randomJson(rng: Rng, depth: number): unknown {
  switch (int(rng, 0, depth > 2 ? 5 : 7)) {
    case 0: return null;
    case 1: return rng() < 0.5;
    case 2: return pick(rng, [0, -1, 1, 1.5, 65536, Number.MAX_SAFE_INTEGER, 1e308]);
    case 3: return randomString(rng, 12);
    case 4: return pick(rng, ['amqp://', 'amqp://u:p@h:1/v', 'amqps://h?cacertfile=/x', 'amqp://[::1', 'never', 'queue-length', 'on-confirm', 'no-ack']);
    case 5: return pick(rng, ['', 'amqp://h', 'http://h']);
    case 6: return Array.from({ length: int(rng, 0, 3) }, () => randomJson(rng, depth + 1));
    default: return Object.fromEntries(Array.from({ length: int(rng, 0, 6) }, () => [pick(rng, KEYS), randomJson(rng, depth + 1)]));
  }
}

const VALID_SHOVEL = { 'src-uri': 'amqp://', 'src-queue': 'q', 'dest-uri': 'amqp://u:p@h', 'dest-queue': 'd' };

test('random and mutated definitions are accepted or refused with a BrokerError, never a crash', () => {
  withSeed(testSeed(), (rng) => {
    const until = Date.now() + 1500;
    let n = 0;
    while (Date.now() < until || n < 2000) {
      n++;
      const value = rng() < 0.5 ? randomJson(rng, 0) : { ...VALID_SHOVEL, [pick(rng, KEYS)]: randomJson(rng, 1) };
      for (const parse of [parseShovel, parseUpstream, parseUpstreamSet] as const) {
        try {
          parse('fuzz', value);
        } catch (error) {
          assert.ok(error instanceof BrokerError, `${parse.name}(${JSON.stringify(value)}) threw ${String(error)}`);
        }
      }
    }
  });
});

test('redaction keeps the user and hides any password', () => {
  assert.equal(redactUri('amqp://user:s3cret@host:5672/v'), 'amqp://user:***@host:5672/v');
  assert.equal(redactUri('amqps://user:p%40ss@host'), 'amqps://user:***@host');
  assert.equal(redactUri('amqp://host/v'), 'amqp://host/v');
  assert.equal(redactUri('amqp://justuser@host'), 'amqp://justuser@host');
  assert.deepEqual(redactSecrets({ a: ['amqp://x:y@h'], b: { c: 'amqp://x:z@h' }, d: 3 }), { a: ['amqp://x:***@h'], b: { c: 'amqp://x:***@h' }, d: 3 });
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 2000; i++) {
      const secret = `S${randomString(rng, 10).replace(/[@/?#]/g, '')}`;
      const uri = `amqp://u:${secret}@h${int(rng, 0, 9)}:${int(rng, 1, 65535)}/${randomString(rng, 6)}`;
      const redacted = redactUri(uri);
      assert.ok(!redacted.includes(`:${secret}@`), `${JSON.stringify(uri)} -> ${JSON.stringify(redacted)}`);
    }
  });
});
