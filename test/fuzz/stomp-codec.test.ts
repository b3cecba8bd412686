import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame } from '../../src/stomp/codec/encoder.js';
import { StompProtocolError } from '../../src/stomp/codec/frame.js';
import { StompParser } from '../../src/stomp/codec/parser.js';
import { seededRandom } from '../../src/util/prng.js';

/** Random bytes, mutated valid frames and random chunking: the parser only ever emits frames or throws StompProtocolError. */
test('fuzz: the STOMP parser never fails other than with a protocol error', () => {
  const random = seededRandom(0x5703);
  const rng = { int: (n: number): number => Math.floor(random() * n) };
  const valid = encodeFrame('SEND', [['destination', '/queue/q'], ['k', 'v:w']], Buffer.from('payload'), '1.2');
  let frames = 0;
  let errors = 0;
  for (let round = 0; round < 3000; round++) {
    let input: Buffer;
    if (round % 3 === 0) {
      input = Buffer.from(Array.from({ length: rng.int(200) }, () => rng.int(256)));
    } else {
      input = Buffer.from(valid);
      for (let i = rng.int(4); i >= 0; i--) input[rng.int(input.length)] = rng.int(256);
      if (round % 3 === 2) input = input.subarray(0, rng.int(input.length));
    }
    const parser = new StompParser({ frame: () => frames++, heartbeat: () => undefined }, { maxHeaderBytes: 256, maxHeaders: 8, maxBodyBytes: 1024 });
    parser.escaping = round % 2 === 0 ? '1.2' : 'none';
    try {
      let at = 0;
      while (at < input.length) {
        const size = 1 + rng.int(16);
        parser.push(input.subarray(at, at + size));
        at += size;
      }
    } catch (error) {
      assert.ok(error instanceof StompProtocolError, String(error));
      errors++;
    }
  }
  assert.ok(frames > 0 && errors > 0);
});
