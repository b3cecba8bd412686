import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame } from '../../../src/stomp/codec/encoder.js';
import { StompProtocolError, type StompFrame } from '../../../src/stomp/codec/frame.js';
import { StompParser, type ParserLimits } from '../../../src/stomp/codec/parser.js';

function parseAll(bytes: Buffer, escaping: StompParser['escaping'] = '1.2', limits?: ParserLimits): { frames: StompFrame[]; beats: number } {
  const frames: StompFrame[] = [];
  let beats = 0;
  const parser = new StompParser({ frame: (f) => frames.push(f), heartbeat: () => beats++ }, limits);
  parser.escaping = escaping;
  parser.push(bytes);
  return { frames, beats };
}

test('encodes a frame to the exact bytes, with content-length for a body', () => {
  const bytes = encodeFrame('MESSAGE', [['destination', '/queue/a'], ['x', 'a:b\nc\\d\re']], Buffer.from('hi'), '1.2');
  assert.equal(bytes.toString('latin1'), 'MESSAGE\ndestination:/queue/a\nx:a\\cb\\nc\\\\d\\re\ncontent-length:2\n\nhi\0');
  assert.equal(encodeFrame('CONNECTED', [['version', '1.2'], ['a', 'b:c']], undefined, 'none').toString(), 'CONNECTED\nversion:1.2\na:b:c\n\n\0');
});

test('parses NUL-terminated and content-length bodies, CRLF lines, heart-beats between frames', () => {
  const input = Buffer.concat([
    Buffer.from('\n\r\nSEND\r\ndestination:/queue/a\r\n\r\nhello\0\n'),
    Buffer.from('SEND\ndestination:/queue/b\ncontent-length:3\n\na\0b\0'),
  ]);
  const { frames, beats } = parseAll(input);
  assert.equal(beats, 3);
  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.command, 'SEND');
  assert.equal(frames[0]!.headers.get('destination'), '/queue/a');
  assert.equal(frames[0]!.body.toString(), 'hello');
  assert.deepEqual([...frames[1]!.body], [0x61, 0, 0x62]);
});

test('unescapes headers per version; CONNECT never; repeated headers keep the first', () => {
  const send = Buffer.from('SEND\ndestination:/queue/a\nk:a\\cb\\nc\\\\\\r\nk:second\n\n\0');
  assert.equal(parseAll(send, '1.2').frames[0]!.headers.get('k'), 'a:b\nc\\\r');
  assert.throws(() => parseAll(send, '1.1'), StompProtocolError);
  assert.equal(parseAll(send, 'none').frames[0]!.headers.get('k'), 'a\\cb\\nc\\\\\\r');
  assert.equal(parseAll(Buffer.from('CONNECT\nlogin:a\\cb\n\n\0'), '1.2').frames[0]!.headers.get('login'), 'a\\cb');
  assert.throws(() => parseAll(Buffer.from('SEND\nk:\\t\n\n\0')), /invalid escape/);
});

test('one byte at a time gives the same frames', () => {
  const input = Buffer.concat([
    encodeFrame('SEND', [['destination', '/topic/x'], ['h', 'v:1']], Buffer.from('body\0with nul'), '1.2'),
    Buffer.from('\n\n'),
    Buffer.from('ACK\nid:1\n\n\0'),
  ]);
  const frames: StompFrame[] = [];
  let beats = 0;
  const parser = new StompParser({ frame: (f) => frames.push(f), heartbeat: () => beats++ });
  parser.escaping = '1.2';
  for (const byte of input) parser.push(Buffer.from([byte]));
  assert.equal(frames.length, 2);
  assert.equal(beats, 2);
  assert.equal(frames[0]!.headers.get('h'), 'v:1');
  assert.equal(frames[0]!.body.toString(), 'body\0with nul');
  assert.equal(frames[1]!.command, 'ACK');
});

test('round trip: encode then parse gives the headers and body back', () => {
  for (const escaping of ['1.1', '1.2', 'none'] as const) {
    const headers: Array<[string, string]> = [['destination', '/exchange/e/k'], ['weird', escaping === 'none' ? 'plain' : 'a:b\\c\nd']];
    const body = Buffer.from([1, 2, 0, 3]);
    const { frames } = parseAll(encodeFrame('SEND', headers, body, escaping), escaping);
    assert.deepEqual([...frames[0]!.headers], [...headers, ['content-length', '4']]);
    assert.deepEqual(frames[0]!.body, body);
  }
});

test('limits: header block, header count, body size, lying content-length', () => {
  const limits = { maxHeaderBytes: 100, maxHeaders: 3, maxBodyBytes: 10 };
  assert.throws(() => parseAll(Buffer.from('SEND\n' + 'a:' + 'x'.repeat(200)), '1.2', limits), /exceed/);
  assert.throws(() => parseAll(Buffer.from('SEND\na:1\nb:2\nc:3\nd:4\n\n\0'), '1.2', limits), /more than 3 headers/);
  assert.throws(() => parseAll(Buffer.from('SEND\n\n' + 'x'.repeat(20)), '1.2', limits), /exceeds/);
  assert.throws(() => parseAll(Buffer.from('SEND\ncontent-length:20\n\n'), '1.2', limits), /exceeds the limit/);
  assert.throws(() => parseAll(Buffer.from('SEND\ncontent-length:2\n\nabc\0')), /longer than its content-length/);
  assert.throws(() => parseAll(Buffer.from('SEND\ncontent-length:-1\n\n\0')), /invalid content-length/);
  assert.throws(() => parseAll(Buffer.from('SEND\nnocolon\n\n\0')), /without ':'/);
});

test('invalid UTF-8 in the command or headers is a protocol error; valid multi-byte UTF-8 is read', () => {
  const bad = (bytes: number[]) => Buffer.concat([Buffer.from('SEND\ndestination:/topic/'), Buffer.from(bytes), Buffer.from('\n\nbody\0')]);
  for (const bytes of [[0xc3, 0x28], [0xff], [0xe2, 0x82], [0xed, 0xa0, 0x80]]) {
    assert.throws(() => parseAll(bad(bytes)), (error: unknown) => error instanceof StompProtocolError && /not valid UTF-8/.test(error.message), `bytes ${bytes.join(',')}`);
  }
  // The body is bytes, not text: invalid UTF-8 there is fine.
  const { frames } = parseAll(Buffer.concat([Buffer.from('SEND\ndestination:/topic/caf\u00e9.\u20ac\n\n'), Buffer.from([0xff, 0xc3]), Buffer.from('\0')]));
  assert.equal(frames[0]?.headers.get('destination'), '/topic/caf\u00e9.\u20ac');
  assert.deepEqual(frames[0]?.body, Buffer.from([0xff, 0xc3]));
});
