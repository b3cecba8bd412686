import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContentAssembler } from '../../../../src/amqp/channel/content-assembly.js';
import { ChannelError, ConnectionError } from '../../../../src/amqp/errors.js';

const LIMIT = 100;
const BASIC = 60;
const NO_PROPERTIES = Buffer.alloc(2);

function assemblerAt(bodySize: number): ContentAssembler {
  const assembler = new ContentAssembler(LIMIT);
  assembler.start('', 'q', false);
  assert.equal(assembler.onHeader(BASIC, bodySize, {}, NO_PROPERTIES), false);
  return assembler;
}

const isRefusal = (err: unknown): boolean =>
  err instanceof ChannelError &&
  err.replyCode === 406 &&
  err.message === `message size 250 is larger than configured max size ${LIMIT}`;

test('a body over the limit is skipped to its end, then refused with 406', () => {
  const assembler = assemblerAt(250);
  assert.equal(assembler.onBody(Buffer.alloc(100)), false);
  assert.equal(assembler.onBody(Buffer.alloc(100)), false);
  assert.throws(() => assembler.onBody(Buffer.alloc(50)), isRefusal);
  assert.equal(assembler.inProgress, false);
});

test('after a refusal the next message assembles as usual', () => {
  const assembler = assemblerAt(250);
  assert.throws(() => assembler.onBody(Buffer.alloc(250)), isRefusal);
  assembler.start('', 'q', false);
  assert.equal(assembler.onHeader(BASIC, 3, {}, NO_PROPERTIES), false);
  assert.equal(assembler.onBody(Buffer.from('abc')), true);
  assert.equal(assembler.takeBody().toString(), 'abc');
});

test('a skipped body keeps the framing rules: no method frame before its end, no byte beyond it', () => {
  const interrupted = assemblerAt(250);
  interrupted.onBody(Buffer.alloc(100));
  assert.throws(
    () => interrupted.assertIdle(),
    (err: unknown) => err instanceof ConnectionError && err.replyCode === 505 && /expected content body/.test(err.message),
  );
  const overlong = assemblerAt(250);
  assert.throws(
    () => overlong.onBody(Buffer.alloc(251)),
    (err: unknown) => err instanceof ConnectionError && err.replyCode === 505,
  );
});

test('a body at the limit is kept whole', () => {
  const assembler = assemblerAt(LIMIT);
  assert.equal(assembler.onBody(Buffer.alloc(60, 1)), false);
  assert.equal(assembler.onBody(Buffer.alloc(40, 2)), true);
  const body = assembler.takeBody();
  assert.equal(body.length, LIMIT);
  assert.equal(body[59], 1);
  assert.equal(body[60], 2);
});
