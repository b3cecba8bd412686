import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelError, ConnectionError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';
import { TypedValue } from '../../../src/broker/message.js';
import type { ExchangeDeclare, QueueDeclare } from '../../../src/broker/vhost.js';
import { message, owner, startedVhost } from './fakes.js';

const me = owner('me');

function exchangeReq(name: string, overrides: Partial<ExchangeDeclare> = {}): ExchangeDeclare {
  return { name, type: 'direct', durable: false, autoDelete: false, internal: false, arguments: {}, ...overrides };
}

function queueReq(name: string, overrides: Partial<QueueDeclare> = {}): QueueDeclare {
  return { name, durable: false, exclusive: false, autoDelete: false, arguments: {}, ...overrides };
}

/** Asserts a ChannelError with the exact code and wire reply text. */
function rejects(fn: () => unknown, replyCode: number, replyText: string): void {
  amqpThrows(fn, (thrown: unknown) => {
      const err = asAmqp(thrown);
    assert.ok(err instanceof ChannelError, `expected ChannelError, got ${String(err)}`);
    assert.equal(err.replyCode, replyCode);
    assert.equal(err.replyText, replyText);
    return true;
  });
}

test('exchange redeclare: same is fine, any difference is 406 with RabbitMQ text', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const x = vhost.declareExchange(exchangeReq('x'));
    assert.equal(vhost.declareExchange(exchangeReq('x')), x);
    const prefix = "PRECONDITION_FAILED - inequivalent arg";
    rejects(() => vhost.declareExchange(exchangeReq('x', { type: 'fanout' })), 406,
      `${prefix} 'type' for exchange 'x' in vhost '/': received 'fanout' but current is 'direct'`);
    rejects(() => vhost.declareExchange(exchangeReq('x', { durable: true })), 406,
      `${prefix} 'durable' for exchange 'x' in vhost '/': received 'true' but current is 'false'`);
    rejects(() => vhost.declareExchange(exchangeReq('x', { autoDelete: true })), 406,
      `${prefix} 'auto_delete' for exchange 'x' in vhost '/': received 'true' but current is 'false'`);
    rejects(() => vhost.declareExchange(exchangeReq('x', { internal: true })), 406,
      `${prefix} 'internal' for exchange 'x' in vhost '/': received 'true' but current is 'false'`);
    rejects(() => vhost.declareExchange(exchangeReq('x', { arguments: { 'alternate-exchange': 'ae' } })), 406,
      `${prefix} 'alternate-exchange' for exchange 'x' in vhost '/': received the value 'ae' of type 'longstr' but current is none`);
    // Arguments RabbitMQ does not know are not part of the identity.
    assert.equal(vhost.declareExchange(exchangeReq('x', { arguments: { 'x-custom': 1 } })), x);
  } finally {
    await broker.stop();
  }
});

test('exchange declare: reserved names, default exchange, unknown type', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    rejects(() => vhost.declareExchange(exchangeReq('amq.x')), 403,
      "ACCESS_REFUSED - exchange name 'amq.x' contains reserved prefix 'amq.*'");
    assert.equal(vhost.declareExchange(exchangeReq('amq.direct', { durable: true })), vhost.getExchange('amq.direct'));
    rejects(() => vhost.declareExchange(exchangeReq('amq.direct', { type: 'topic', durable: true })), 406,
      "PRECONDITION_FAILED - inequivalent arg 'type' for exchange 'amq.direct' in vhost '/': received 'topic' but current is 'direct'");
    rejects(() => vhost.declareExchange(exchangeReq('')), 403,
      'ACCESS_REFUSED - operation not permitted on the default exchange');
    amqpThrows(() => vhost.declareExchange(exchangeReq('y', { type: 'x-nope' })), (thrown: unknown) => {
      const err = asAmqp(thrown);
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.replyCode, 503);
      assert.equal(err.replyText, "COMMAND_INVALID - invalid exchange type 'x-nope'");
      return true;
    });
    rejects(() => vhost.checkExchange('missing'), 404, "NOT_FOUND - no exchange 'missing' in vhost '/'");
    assert.equal(vhost.checkExchange('amq.topic').type, 'topic');
  } finally {
    await broker.stop();
  }
});

test('exchange delete and bind: default and system exchanges are protected', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    vhost.declareQueue(queueReq('q'), me);
    rejects(() => vhost.deleteExchange('', false), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    rejects(() => vhost.deleteExchange('amq.direct', false), 403,
      "ACCESS_REFUSED - deletion of system exchange 'amq.direct' in vhost '/' not allowed");
    rejects(() => vhost.bindQueue('q', '', 'q', {}, me), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    rejects(() => vhost.unbindQueue('q', '', 'q', {}, me), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    rejects(() => vhost.bindExchange('', 'amq.direct', '', {}), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    rejects(() => vhost.bindExchange('amq.direct', '', '', {}), 403, 'ACCESS_REFUSED - operation not permitted on the default exchange');
    rejects(() => vhost.bindQueue('q', 'nope', '', {}, me), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
    rejects(() => vhost.bindQueue('nope', 'amq.direct', '', {}, me), 404, "NOT_FOUND - no queue 'nope' in vhost '/'");
    rejects(() => vhost.bindExchange('nope', 'amq.direct', '', {}), 404, "NOT_FOUND - no exchange 'nope' in vhost '/'");
  } finally {
    await broker.stop();
  }
});

test('queue redeclare equivalence: durable, auto_delete, x-arguments', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const args = { 'x-message-ttl': 1000, 'x-custom': 'ignored' };
    const { queue } = vhost.declareQueue(queueReq('q', { arguments: args }), me);
    const again = vhost.declareQueue(queueReq('q', { arguments: { 'x-message-ttl': new TypedValue('l', 1000) } }), me);
    assert.equal(again.queue, queue, 'int64 1000 is equivalent to int32 1000; unknown args ignored');
    const prefix = "PRECONDITION_FAILED - inequivalent arg";
    rejects(() => vhost.declareQueue(queueReq('q', { durable: true, arguments: args }), me), 406,
      `${prefix} 'durable' for queue 'q' in vhost '/': received 'true' but current is 'false'`);
    rejects(() => vhost.declareQueue(queueReq('q', { autoDelete: true, arguments: args }), me), 406,
      `${prefix} 'auto_delete' for queue 'q' in vhost '/': received 'true' but current is 'false'`);
    rejects(() => vhost.declareQueue(queueReq('q', { arguments: { 'x-message-ttl': 2000 } }), me), 406,
      `${prefix} 'x-message-ttl' for queue 'q' in vhost '/': received '2000' but current is '1000'`);
    rejects(() => vhost.declareQueue(queueReq('q'), me), 406,
      `${prefix} 'x-message-ttl' for queue 'q' in vhost '/': received none but current is the value '1000' of type 'signedint'`);
    rejects(() => vhost.declareQueue(queueReq('q', { arguments: { ...args, 'x-max-length': 5 } }), me), 406,
      `${prefix} 'x-max-length' for queue 'q' in vhost '/': received the value '5' of type 'signedint' but current is none`);
    // x-queue-type 'classic' is what an absent x-queue-type means.
    vhost.declareQueue(queueReq('q', { arguments: { ...args, 'x-queue-type': 'classic' } }), me);
  } finally {
    await broker.stop();
  }
});

test('queue names: server-named amq.gen-*, reserved prefix refused, existing amq.gen redeclarable', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const first = vhost.declareQueue(queueReq(''), me).queue;
    const second = vhost.declareQueue(queueReq(''), me).queue;
    assert.match(first.name, /^amq\.gen-[A-Za-z0-9_-]{22}$/);
    assert.notEqual(first.name, second.name);
    assert.equal(vhost.declareQueue(queueReq(first.name), me).queue, first);
    rejects(() => vhost.declareQueue(queueReq('amq.mine'), me), 403,
      "ACCESS_REFUSED - queue name 'amq.mine' contains reserved prefix 'amq.*'");
    rejects(() => vhost.checkQueue('missing', me), 404, "NOT_FOUND - no queue 'missing' in vhost '/'");
  } finally {
    await broker.stop();
  }
});

test('declare-ok counts: ready messages and consumers', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    vhost.declareQueue(queueReq('q'), me);
    vhost.publish(message('', 'q', 'x'));
    const result = vhost.declareQueue(queueReq('q'), me);
    assert.equal(result.messageCount, 1);
    assert.equal(result.consumerCount, 0);
  } finally {
    await broker.stop();
  }
});

test('per-vhost limits on queues and exchanges', async () => {
  const { broker, vhost } = await startedVhost({ limits: { maxQueues: 2, maxExchanges: 1 } });
  try {
    vhost.declareQueue(queueReq('a'), me);
    vhost.declareQueue(queueReq('b'), me);
    vhost.declareQueue(queueReq('a'), me); // redeclare does not count
    rejects(() => vhost.declareQueue(queueReq('c'), me), 406,
      "PRECONDITION_FAILED - cannot declare queue 'c': queue limit in vhost '/' (2) is reached");
    vhost.deleteQueue('b', { ifUnused: false, ifEmpty: false }, me);
    vhost.declareQueue(queueReq('c'), me);
    vhost.declareExchange(exchangeReq('x1'));
    rejects(() => vhost.declareExchange(exchangeReq('x2')), 406,
      "PRECONDITION_FAILED - cannot declare exchange 'x2': exchange limit in vhost '/' (1) is reached");
  } finally {
    await broker.stop();
  }
});

test('vhosts are independent and deleteVhost cancels consumers', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const other = broker.addVhost('other');
    assert.equal(broker.addVhost('other'), other, 'idempotent');
    other.declareQueue(queueReq('q'), me);
    assert.equal(vhost.getQueue('q'), undefined);
    const cancelled: string[] = [];
    other.getQueue('q')!.addConsumer({
      tag: 'c', noAck: true, exclusive: false, priority: 0, arguments: {}, owner: me,
      canTake: () => true, deliver: () => {}, cancelledByBroker: (q) => cancelled.push(q.name),
    });
    broker.deleteVhost('other');
    assert.deepEqual(cancelled, ['q']);
    assert.equal(broker.getVhost('other'), undefined);
  } finally {
    await broker.stop();
  }
});

test('whenDurable calls back on a later tick, in order', async () => {
  const { broker } = await startedVhost();
  try {
    const calls: number[] = [];
    broker.whenDurable(() => calls.push(1));
    broker.whenDurable(() => calls.push(2));
    assert.deepEqual(calls, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, [1, 2]);
  } finally {
    await broker.stop();
  }
});
