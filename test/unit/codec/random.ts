/**
 * Seeded random generators for codec tests: method arguments, field tables and properties whose
 * decoded form equals what was encoded (message.ts decoding rules), and frame streams.
 */
import { TypedValue, type BasicProperties, type FieldTable, type FieldValue } from '../../../src/broker/message.js';
import {
  allMethodIds,
  methodHasContent,
  methodSchemas,
  MethodId,
  type FieldKind,
  type Method,
} from '../../../src/amqp/codec/index.js';
import { seededRandom, type Rng } from '../../../src/util/prng.js';

export type { Rng } from '../../../src/util/prng.js';

/** The seed for a randomised test: CODEC_SEED from the environment, or a fresh one (print it on failure). */
export function testSeed(): number {
  const fromEnv = process.env['CODEC_SEED'];
  return fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Runs `body`, naming the seed in any failure so it can be replayed with CODEC_SEED=... */
export function withSeed(seed: number, body: (rng: Rng) => void): void {
  try {
    body(seededRandom(seed));
  } catch (err) {
    if (err instanceof Error) err.message = `[CODEC_SEED=${seed}] ${err.message}`;
    throw err;
  }
}

export const int = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

const ALPHABET = ['a', 'b', 'z', 'Q', '0', '.', '-', '_', ' ', 'é', 'ß', '€', '日', '🐇', '\u0000'];

/** A string of at most maxBytes UTF-8 bytes, mixing ASCII and multi-byte characters. */
export function randomString(rng: Rng, maxBytes: number): string {
  const target = int(rng, 0, Math.min(maxBytes, rng() < 0.8 ? 20 : maxBytes));
  let s = '';
  let bytes = 0;
  for (;;) {
    const ch = rng() < 0.7 ? String.fromCharCode(int(rng, 0x61, 0x7a)) : pick(rng, ALPHABET);
    const n = Buffer.byteLength(ch);
    if (bytes + n > target) return s;
    s += ch;
    bytes += n;
  }
}

export function randomBytes(rng: Rng, max: number): Buffer {
  const b = Buffer.alloc(int(rng, 0, max));
  for (let i = 0; i < b.length; i++) b[i] = int(rng, 0, 255);
  return b;
}

/** A field value that decodes back to an equal value (so no plain integers beyond int32, no 'l' bigints in safe range). */
export function randomFieldValue(rng: Rng, depth: number): FieldValue {
  const choice = int(rng, 0, depth > 2 ? 15 : 17);
  switch (choice) {
    case 0:
      return rng() < 0.5;
    case 1:
      return randomString(rng, 300);
    case 2:
      return int(rng, -0x80000000, 0x7fffffff);
    case 3:
      return pick(rng, [0.5, -1.25, 3.141592653589793, 1e300, -Infinity, Infinity, NaN, -0, rng() * 1e6 + 0.5]);
    case 4:
      return randomBytes(rng, 40);
    case 5:
      return null;
    case 6:
      return new TypedValue('b', int(rng, -128, 127));
    case 7:
      return new TypedValue('B', int(rng, 0, 255));
    case 8:
      return new TypedValue('s', int(rng, -32768, 32767));
    case 9:
      return new TypedValue('u', int(rng, 0, 65535));
    case 10:
      return new TypedValue('i', int(rng, 0, 0xffffffff));
    case 11:
      return rng() < 0.7
        ? new TypedValue('l', int(rng, -(2 ** 53) + 1, 2 ** 53 - 1))
        : new TypedValue('l', pick(rng, [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, -(2n ** 60n) - 7n]));
    case 12:
      return new TypedValue('f', Math.fround(rng() * 2000 - 1000));
    case 13:
      return new TypedValue('D', { scale: int(rng, 0, 255), value: int(rng, 0, 0xffffffff) });
    case 14:
      return new TypedValue('T', int(rng, 0, 2 ** 40));
    case 15:
      return int(rng, 0, 1) === 0 ? 'plain' : true;
    case 16:
      return randomArray(rng, depth + 1);
    default:
      return randomTable(rng, depth + 1);
  }
}

export function randomArray(rng: Rng, depth: number): FieldValue[] {
  const n = int(rng, 0, 5);
  const out: FieldValue[] = [];
  for (let i = 0; i < n; i++) out.push(randomFieldValue(rng, depth));
  return out;
}

export function randomTable(rng: Rng, depth = 0): FieldTable {
  const n = int(rng, 0, depth === 0 ? 8 : 4);
  const t: FieldTable = {};
  for (let i = 0; i < n; i++) t[randomString(rng, 30) || `k${i}`] = randomFieldValue(rng, depth);
  return t;
}

/** All 14 keys, as decodeProperties returns them. */
export function fullProperties(p: BasicProperties): BasicProperties {
  return {
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    headers: p.headers,
    deliveryMode: p.deliveryMode,
    priority: p.priority,
    correlationId: p.correlationId,
    replyTo: p.replyTo,
    expiration: p.expiration,
    messageId: p.messageId,
    timestamp: p.timestamp,
    type: p.type,
    userId: p.userId,
    appId: p.appId,
    clusterId: p.clusterId,
  };
}

export function randomProperties(rng: Rng): BasicProperties {
  const maybe = <T>(make: () => T): T | undefined => (rng() < 0.5 ? make() : undefined);
  const s = (): string => randomString(rng, 255);
  return fullProperties({
    contentType: maybe(s),
    contentEncoding: maybe(s),
    headers: maybe(() => randomTable(rng)),
    deliveryMode: maybe(() => int(rng, 0, 255)),
    priority: maybe(() => int(rng, 0, 255)),
    correlationId: maybe(s),
    replyTo: maybe(s),
    expiration: maybe(s),
    messageId: maybe(s),
    timestamp: maybe(() => int(rng, 0, 2 ** 53 - 1)),
    type: maybe(s),
    userId: maybe(s),
    appId: maybe(s),
    clusterId: maybe(s),
  });
}

function randomArg(rng: Rng, kind: FieldKind): unknown {
  switch (kind) {
    case 'octet':
      return int(rng, 0, 255);
    case 'short':
      return int(rng, 0, 65535);
    case 'long':
      return int(rng, 0, 0xffffffff);
    case 'longlong':
    case 'timestamp':
      return rng() < 0.5 ? int(rng, 0, 1000) : int(rng, 0, 2 ** 53 - 1);
    case 'bit':
      return rng() < 0.5;
    case 'shortstr':
      return randomString(rng, 255);
    case 'longstr':
      return randomString(rng, 600);
    case 'longbytes':
      return randomBytes(rng, 100);
    case 'table':
      return randomTable(rng);
  }
}

export function randomMethod(rng: Rng, id: MethodId = pick(rng, allMethodIds)): Method {
  const args: Record<string, unknown> = {};
  for (const field of methodSchemas[id]) args[field.name] = randomArg(rng, field.kind);
  return { id, args } as Method;
}

/** What a stream of frames should decode to (heartbeats, methods, and content with bodies). */
export type ExpectedFrame =
  | { type: 1; channel: number; method: Method }
  | { type: 2; channel: number; properties: BasicProperties; bodySize: number }
  | { type: 3; channel: number; payload: Buffer }
  | { type: 8; channel: number };

export function randomContentMethod(rng: Rng): Method {
  return randomMethod(rng, pick(rng, allMethodIds.filter(methodHasContent)));
}

export { MethodId };
