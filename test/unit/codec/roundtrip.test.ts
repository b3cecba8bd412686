/** Random round trips: every method, deep field tables, properties, whole content. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TypedValue } from '../../../src/broker/message.js';
import {
  FrameWriter,
  allMethodIds,
  decodeFieldTable,
  decodeProperties,
  encodeFieldTable,
  encodeProperties,
  methodHasContent,
  methodNames,
  MethodId,
} from '../../../src/amqp/codec/index.js';
import { parsePieces } from './frames-helper.js';
import { int, randomBytes, randomMethod, randomProperties, randomTable, testSeed, withSeed } from './random.js';

test('every method survives encode then parse', () => {
  withSeed(testSeed(), (rng) => {
    for (const id of allMethodIds) {
      for (let i = 0; i < 30; i++) {
        const method = randomMethod(rng, id);
        const w = new FrameWriter();
        w.writeMethod(7, method);
        const frames = parsePieces([w.take()]);
        assert.equal(frames.length, 1);
        assert.deepEqual(frames[0], { type: 1, channel: 7, method }, methodNames[id]);
      }
    }
  });
});

test('deep random field tables survive encode then decode, and re-encode to the same bytes', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 500; i++) {
      const table = randomTable(rng);
      const bytes = encodeFieldTable(table);
      const decoded = decodeFieldTable(bytes);
      assert.deepEqual(decoded, table);
      assert.deepEqual(encodeFieldTable(decoded), bytes);
    }
  });
});

test('random properties survive encode then decode', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 500; i++) {
      const p = randomProperties(rng);
      const bytes = encodeProperties(p);
      assert.deepEqual(decodeProperties(bytes), p);
    }
  });
});

test('content (method + header + body frames) reassembles for any frameMax', () => {
  withSeed(testSeed(), (rng) => {
    const contentIds = allMethodIds.filter(methodHasContent);
    for (let i = 0; i < 200; i++) {
      const method = randomMethod(rng, contentIds[i % contentIds.length]);
      const properties = randomProperties(rng);
      const body = rng() < 0.1 ? Buffer.alloc(0) : randomBytes(rng, 20000);
      const frameMax = int(rng, 4096, 20000);
      const w = new FrameWriter();
      w.writeContent(3, method, properties, undefined, body, frameMax);
      const frames = parsePieces([w.take()], frameMax);
      const [first, header, ...bodies] = frames;
      assert.deepEqual(first, { type: 1, channel: 3, method });
      assert.ok(header && header.type === 2);
      assert.equal(header.bodySize, body.length);
      assert.deepEqual(header.properties, properties);
      assert.deepEqual(header.encodedProperties, encodeProperties(properties));
      assert.equal(bodies.length, Math.ceil(body.length / (frameMax - 8)));
      for (const b of bodies) assert.ok(b.type === 3 && b.payload.length <= frameMax - 8);
      const payloads = bodies.map((b) => (b.type === 3 ? b.payload : Buffer.alloc(0)));
      assert.deepEqual(Buffer.concat(payloads), body);
    }
  });
});

test('decoded integers keep their wire type; 64-bit values beyond 2^53 come back as bigint', () => {
  const table = {
    small: new TypedValue('l', 5),
    big: new TypedValue('l', 2n ** 62n + 3n),
    negative: new TypedValue('l', -(2n ** 63n)),
    ts: new TypedValue('T', 2n ** 64n - 1n),
    byte: new TypedValue('b', -1),
    int: -7,
  };
  const decoded = decodeFieldTable(encodeFieldTable(table));
  assert.deepEqual(decoded, table);
});

test('a __proto__ key is an ordinary key, not a prototype change', () => {
  const bytes = Buffer.from('0000000f' + '095f5f70726f746f5f5f' + '49' + '00000001', 'hex');
  const decoded = decodeFieldTable(bytes);
  assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  assert.deepEqual(Object.keys(decoded), ['__proto__']);
  assert.deepEqual(encodeFieldTable(decoded), bytes);
});

test('undefined and null properties are absent; shortstrs over 255 bytes are cut at a character boundary', () => {
  assert.deepEqual(encodeProperties({ contentType: undefined }), Buffer.from('0000', 'hex'));
  const long = 'é'.repeat(200); // 400 bytes
  const decoded = decodeProperties(encodeProperties({ type: long }));
  assert.equal(decoded.type, 'é'.repeat(127));
  const method = { id: MethodId.ChannelClose, args: { replyCode: 406, replyText: 'x'.repeat(300), classId: 0, methodId: 0 } } as const;
  const w = new FrameWriter();
  w.writeMethod(1, method);
  const [frame] = parsePieces([w.take()]);
  assert.ok(frame && frame.type === 1 && frame.method.id === MethodId.ChannelClose);
  assert.equal(frame.method.args.replyText, 'x'.repeat(255));
});

test("a double holding a whole number stays a double ('d') through decode and encode", () => {
  const wire = Buffer.from([0, 0, 0, 11, 1, 0x6b, 0x64, 0x40, 0x00, 0, 0, 0, 0, 0, 0]); // {k: d 2.0}
  const decoded = decodeFieldTable(wire);
  assert.deepEqual(decoded, { k: new TypedValue('d', 2) });
  assert.deepEqual(encodeFieldTable(decoded), wire);
  assert.deepEqual(decodeFieldTable(encodeFieldTable({ k: 2.5 })), { k: 2.5 });
});
