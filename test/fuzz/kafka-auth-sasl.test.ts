/**
 * The SASL exchanges' parsers on random and mutated input: every step returns a step (a failure for
 * garbage), never throws, and never authenticates without the password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UserRegistry } from '../../src/auth/index.js';
import { startExchange } from '../../src/kafka/auth/mechanisms.js';

/** A small deterministic generator, so a failure names its seed. */
function generator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

const PIECES = ['n', 'y', 'p=x', ',', '=', '=2C', '=3D', 'a=', 'n=', 'r=', 'c=', 'p=', 'biws', 'alice', '\0', 'm=', 'tokenauth=true', '\u00e9', '\uffff', '=='];

function mutated(random: () => number): Buffer {
  if (random() < 0.3) return randomBytes(Math.floor(random() * 64));
  let text = '';
  const parts = Math.floor(random() * 12);
  for (let i = 0; i < parts; i++) text += PIECES[Math.floor(random() * PIECES.length)];
  return Buffer.from(text, 'utf8');
}

test('SCRAM and PLAIN exchanges survive 2000 random and mutated messages per seed', () => {
  const users = new UserRegistry();
  users.addUser('alice', 'secret');
  for (let seed = 1; seed <= 5; seed++) {
    const random = generator(seed);
    for (let i = 0; i < 2000; i++) {
      for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
        const exchange = startExchange(mechanism, { users, remoteAddress: '127.0.0.1' }, { secret: Buffer.alloc(32) })!;
        for (let step = 0; step < 3; step++) {
          const result = exchange.step(mutated(random));
          assert.notEqual(result.kind, 'success', `seed ${seed} round ${i} ${mechanism}`);
          if (result.kind === 'failure') break;
        }
      }
    }
  }
});
