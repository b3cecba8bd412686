/** FrameParser: chunking, the protocol header, and every kind of bad input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FrameDecodeError,
  FrameParser,
  FrameWriter,
  ProtocolHeaderError,
  amqpProtocolHeader,
  MethodId,
  type Frame,
} from '../../../src/amqp/codec/index.js';
import { collectingParser, oneBytePieces, parsePieces, randomPieces } from './frames-helper.js';
import { int, randomBytes, randomMethod, randomProperties, testSeed, withSeed, type Rng } from './random.js';

function randomStream(rng: Rng, count: number): Buffer {
  const w = new FrameWriter();
  for (let i = 0; i < count; i++) {
    const kind = int(rng, 0, 3);
    if (kind === 0) w.writeHeartbeat();
    else if (kind === 1) w.writeMethod(int(rng, 0, 65535), randomMethod(rng));
    else {
      const method = randomMethod(rng, MethodId.BasicPublish);
      w.writeContent(int(rng, 1, 5), method, randomProperties(rng), undefined, randomBytes(rng, 9000), 4096);
    }
  }
  return w.take();
}

function expectCode(code: number): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof FrameDecodeError, `expected FrameDecodeError, got ${String(err)}`);
    assert.equal(err.replyCode, code, err.message);
    return true;
  };
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s/g, ''), 'hex');

test('the same frames come out whole, one byte at a time, and in random splits', () => {
  withSeed(testSeed(), (rng) => {
    const stream = randomStream(rng, 150);
    const whole = parsePieces([stream]);
    assert.ok(whole.length >= 150);
    assert.deepEqual(parsePieces(oneBytePieces(stream)), whole);
    for (let i = 0; i < 10; i++) assert.deepEqual(parsePieces(randomPieces(rng, stream, int(rng, 1, 20000))), whole);
  });
});

test('kept payloads are not overwritten by later input', () => {
  withSeed(testSeed(), (rng) => {
    const stream = randomStream(rng, 60);
    const expected = parsePieces([stream]).map((f) => (f.type === 3 ? Buffer.from(f.payload) : undefined));
    const got = parsePieces(randomPieces(rng, stream, 3000));
    got.forEach((f, i) => {
      if (f.type === 3) assert.deepEqual(f.payload, expected[i]);
    });
  });
});

test('a valid protocol header is reported, and frames after it in the same chunk are parsed', () => {
  const headers: Array<[string, boolean]> = [];
  const frames: Frame[] = [];
  const parser = new FrameParser(
    { onFrame: (f) => frames.push(f), onProtocolHeader: (h, ok) => headers.push([h.toString('latin1'), ok]) },
    { frameMax: 4096 },
  );
  const w = new FrameWriter();
  w.writeHeartbeat();
  const input = Buffer.concat([amqpProtocolHeader(), w.take()]);
  for (const piece of oneBytePieces(input)) parser.push(Buffer.from(piece));
  assert.deepEqual(headers, [['AMQP\0\0\x09\x01', true]]);
  assert.deepEqual(frames, [{ type: 8, channel: 0 }]);
  assert.equal(parser.expectProtocolHeader, false);
});

test('a wrong protocol header is reported once and all later input ignored', () => {
  const headers: Array<[string, boolean]> = [];
  const frames: Frame[] = [];
  const parser = new FrameParser(
    { onFrame: (f) => frames.push(f), onProtocolHeader: (h, ok) => headers.push([h.toString('latin1'), ok]) },
    { frameMax: 4096 },
  );
  parser.push(Buffer.from('GET / HTTP/1.1\r\n'));
  parser.push(Buffer.from('08000000000000ce', 'hex'));
  assert.deepEqual(headers, [['GET / HT', false]]);
  assert.deepEqual(frames, []);
  assert.equal(parser.stoppedReading, true);
});

test('without a header handler a wrong header throws ProtocolHeaderError', () => {
  const parser = new FrameParser({ onFrame: () => undefined }, { frameMax: 4096 });
  assert.throws(() => parser.push(Buffer.from('AMQP\x00\x00\x08\x00')), (err) => err instanceof ProtocolHeaderError);
});

test('framing errors are 501 and stop the parser', () => {
  const cases: Array<[string, Buffer]> = [
    ['bad frame end', hex('08 0000 00000000 cd')],
    ['unknown frame type', hex('04 0000 00000000 ce')],
    ['frame over frameMax', hex('03 0001 00001001') ],
    ['heartbeat with payload', hex('08 0000 00000001 00 ce')],
    ['method frame too short', hex('01 0001 00000002 003c ce')],
    ['content header too short', hex('02 0001 00000004 003c0000 ce')],
  ];
  for (const [name, bytes] of cases) {
    const { parser, frames } = collectingParser(4096);
    assert.throws(() => parser.push(bytes), expectCode(501), name);
    parser.push(hex('08 0000 00000000 ce'));
    assert.deepEqual(frames, [], name);
    assert.equal(parser.stoppedReading, true, name);
  }
});

test('a payload may reach frameMax itself (RabbitMQ allows 8 bytes of slack), not beyond', () => {
  const { parser, frames } = collectingParser(4096);
  const body = Buffer.concat([hex('03 0001 00001000'), Buffer.alloc(4096), hex('ce')]);
  parser.push(body);
  assert.equal(frames.length, 1);
  assert.throws(() => parser.push(hex('03 0001 00001001')), expectCode(501));
});

test('frameMax can be lowered after tune-ok', () => {
  const { parser } = collectingParser(131072);
  parser.frameMax = 4096;
  assert.throws(() => parser.push(hex('03 0001 00002000')), expectCode(501));
});

test('malformed methods are 502/540, the parser stays in sync and reads on', () => {
  const heartbeat = '08 0000 00000000 ce';
  const cases: Array<[string, number, string]> = [
    ['unknown method', 540, '01 0001 00000004 003c 0063 ce'],
    ['unknown class', 540, '01 0001 00000004 0063 000a ce'],
    ['truncated shortstr', 502, '01 0001 00000007 003c 001e 05 6162 ce'],
    ['trailing bytes', 502, '01 0001 00000006 0014 0029 0000 ce'],
    ['truncated table entry', 502, '01 0001 00000010 0032 0014 0000 00 00 00 00 00000002 0161 ce'],
    ['bad table type', 502, '01 0001 00000011 0032 0014 0000 00 00 00 00 00000003 01617a ce'],
    ['bad table length', 502, '01 0001 0000000e 0032 0014 0000 00 00 00 00 000000ff ce'],
    ['heartbeat on a channel', 505, '08 0001 00000000 ce'],
    ['content header for another class', 505, '02 0001 0000000e 000a 0000 0000000000000000 0000 ce'],
    ['content header weight', 505, '02 0001 0000000e 003c 0001 0000000000000000 0000 ce'],
    ['property flag 1', 502, '02 0001 0000000e 003c 0000 0000000000000000 0002 ce'],
    ['property continuation with flags', 502, '02 0001 00000010 003c 0000 0000000000000000 0001 8000 ce'],
  ];
  for (const [name, code, frame] of cases) {
    const { parser, frames } = collectingParser(4096);
    assert.throws(() => parser.push(hex(frame + heartbeat)), expectCode(code), name);
    parser.push(Buffer.alloc(0));
    assert.deepEqual(frames, [{ type: 8, channel: 0 }], name);
    assert.equal(parser.stoppedReading, false, name);
  }
});

test('an empty continuation flag word is accepted', () => {
  const frames = parsePieces([hex('02 0001 00000011 003c 0000 0000000000000003 1001 0000 02 ce')]);
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.type === 2);
  assert.equal(frames[0]!.properties.deliveryMode, 2);
});

test('a handler exception propagates and parsing resumes at the next frame', () => {
  const seen: number[] = [];
  const parser = new FrameParser(
    {
      onFrame: (f) => {
        seen.push(f.channel);
        if (f.type === 3 && f.channel === 2) throw new Error('handler failed');
      },
    },
    { frameMax: 4096, expectProtocolHeader: false },
  );
  const w = new FrameWriter();
  for (const ch of [1, 2, 3]) {
    w.writeBody(ch, Buffer.from('x'), 4096);
  }
  assert.throws(() => parser.push(w.take()), /handler failed/);
  parser.push(Buffer.alloc(0));
  assert.deepEqual(seen, [1, 2, 3]);
});

test('content header frames expose properties and the raw property bytes', () => {
  withSeed(testSeed(), (rng) => {
    const properties = randomProperties(rng);
    const w = new FrameWriter();
    w.writeContentHeader(4, 60, properties, undefined, 2 ** 40);
    const frames = parsePieces(oneBytePieces(w.take()));
    assert.equal(frames.length, 1);
    const f = frames[0]!;
    assert.ok(f.type === 2);
    assert.equal(f.classId, 60);
    assert.equal(f.bodySize, 2 ** 40);
    assert.deepEqual(f.properties, properties);
    const again = new FrameWriter();
    again.writeContentHeader(4, 60, {}, f.encodedProperties, 2 ** 40);
    const reparsed = parsePieces([again.take()]);
    assert.deepEqual(reparsed, frames);
  });
});
