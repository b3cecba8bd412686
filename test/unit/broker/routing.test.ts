import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';
import { TypedValue } from '../../../src/broker/message.js';
import { declareExchange, declareQueue, message, owner, reached, startedVhost } from './fakes.js';

const me = owner();

test('default exchange routes by queue name and amq.* exchanges exist', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    for (const name of ['', 'amq.direct', 'amq.fanout', 'amq.topic', 'amq.headers', 'amq.match']) {
      assert.ok(vhost.exchanges.has(name), name);
    }
    assert.equal(vhost.exchanges.get('amq.match')!.type, 'headers');
    declareQueue(vhost, 'jobs', me);
    assert.equal(vhost.publish(message('', 'jobs', 'x')).routed, 1);
    assert.equal(vhost.publish(message('', 'nope', 'x')).routed, 0);
    assert.equal(vhost.getQueue('jobs')!.readyCount(), 1);
  } finally {
    await broker.stop();
  }
});

test('direct exchange: exact key, several queues per key, one queue under several keys', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    for (const q of ['a', 'b', 'c']) declareQueue(vhost, q, me);
    vhost.bindQueue('a', 'amq.direct', 'k1', {}, me);
    vhost.bindQueue('b', 'amq.direct', 'k1', {}, me);
    vhost.bindQueue('c', 'amq.direct', 'k2', {}, me);
    vhost.bindQueue('c', 'amq.direct', 'k1', {}, me);
    vhost.bindQueue('c', 'amq.direct', 'k1', {}, me); // duplicate binding is a no-op
    assert.equal(vhost.publish(message('amq.direct', 'k1')).routed, 3);
    assert.deepEqual(reached(vhost, ['a', 'b', 'c']), ['a', 'b', 'c']);
    assert.equal(vhost.publish(message('amq.direct', 'k2')).routed, 1);
    assert.equal(vhost.publish(message('amq.direct', 'K1')).routed, 0);
    vhost.unbindQueue('c', 'amq.direct', 'k1', {}, me);
    assert.equal(vhost.publish(message('amq.direct', 'k1')).routed, 2);
    assert.equal(vhost.getQueue('c')!.readyCount(), 1, 'only the k2 message');
  } finally {
    await broker.stop();
  }
});

test('fanout exchange ignores the routing key', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    for (const q of ['a', 'b']) {
      declareQueue(vhost, q, me);
      vhost.bindQueue(q, 'amq.fanout', q, {}, me);
    }
    assert.equal(vhost.publish(message('amq.fanout', 'whatever')).routed, 2);
    vhost.unbindQueue('a', 'amq.fanout', 'a', {}, me);
    assert.equal(vhost.publish(message('amq.fanout', '')).routed, 1);
  } finally {
    await broker.stop();
  }
});

test('headers exchange: all, any, *-with-x, presence-only, type classes', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const bindings: Record<string, Record<string, unknown>> = {
      all: { 'x-match': 'all', format: 'pdf', type: 'report' },
      any: { 'x-match': 'any', format: 'pdf', type: 'log' },
      implicitAll: { format: 'pdf' },
      allWithX: { 'x-match': 'all-with-x', 'x-tenant': 'acme' },
      allIgnoresX: { 'x-match': 'all', 'x-tenant': 'acme' },
      anyIgnoresX: { 'x-match': 'any', 'x-tenant': 'acme' },
      anyWithX: { 'x-match': 'any-with-x', 'x-tenant': 'acme', nothing: 'here' },
      present: { 'x-match': 'all', flag: null },
      numeric: { size: 5 },
    };
    for (const [queue, args] of Object.entries(bindings)) {
      declareQueue(vhost, queue, me);
      vhost.bindQueue(queue, 'amq.headers', '', args as never, me);
    }
    const names = Object.keys(bindings);
    const route = (headers: Record<string, unknown>) => {
      vhost.publish(message('amq.headers', 'ignored', '', { headers: headers as never }));
      return reached(vhost, names).sort();
    };
    assert.deepEqual(route({ format: 'pdf', type: 'report' }), ['all', 'allIgnoresX', 'any', 'implicitAll']);
    assert.deepEqual(route({ type: 'log' }), ['allIgnoresX', 'any'].sort());
    assert.deepEqual(route({ 'x-tenant': 'acme' }), ['allIgnoresX', 'allWithX', 'anyWithX'].sort());
    assert.deepEqual(route({ flag: 'anything' }), ['allIgnoresX', 'present'].sort());
    assert.deepEqual(route({ size: new TypedValue('b', 5) }), ['allIgnoresX', 'numeric'].sort(), 'int8 5 equals int32 5');
    assert.deepEqual(route({ size: 5.5 }), ['allIgnoresX'], 'a float is another type class');
    assert.deepEqual(route({ size: '5' }), ['allIgnoresX'], 'a string is not a number');
    vhost.publish(message('amq.headers', ''));
    assert.deepEqual(reached(vhost, names), ['allIgnoresX'], 'no headers at all: only an empty all matches');
  } finally {
    await broker.stop();
  }
});

test('headers exchange rejects a bad x-match with RabbitMQ texts', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareQueue(vhost, 'q', me);
    amqpThrows(() => vhost.bindQueue('q', 'amq.headers', '', { 'x-match': 'some' }, me), {
      replyCode: 406,
      message: 'Invalid x-match field value <<"some">>; expected all, any, all-with-x, or any-with-x',
    });
    amqpThrows(() => vhost.bindQueue('q', 'amq.headers', '', { 'x-match': 1 }, me), { replyCode: 406 });
    assert.equal(vhost.getExchange('amq.headers')!.bindings.size, 0);
  } finally {
    await broker.stop();
  }
});

test('exchange-to-exchange bindings reach queues once each, even through loops and diamonds', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareExchange(vhost, 'top', 'fanout');
    declareExchange(vhost, 'left', 'direct');
    declareExchange(vhost, 'right', 'topic');
    declareQueue(vhost, 'q', me);
    declareQueue(vhost, 'r', me);
    vhost.bindExchange('left', 'top', '', {});
    vhost.bindExchange('right', 'top', '', {});
    vhost.bindQueue('q', 'left', 'k', {}, me);
    vhost.bindQueue('q', 'right', '#', {}, me); // diamond: q reachable two ways
    vhost.bindQueue('r', 'right', 'k', {}, me);
    vhost.bindExchange('top', 'right', '#', {}); // loop back to the top
    vhost.bindExchange('top', 'top', '', {}); // self loop
    const outcome = vhost.publish(message('top', 'k', 'once'));
    assert.equal(outcome.routed, 2);
    assert.equal(vhost.getQueue('q')!.readyCount(), 1);
    assert.equal(vhost.getQueue('r')!.readyCount(), 1);
    // Routing key is kept along the way: 'left' (direct) only passes 'k'.
    assert.equal(vhost.publish(message('left', 'other')).routed, 0);
    vhost.unbindExchange('left', 'top', '', {});
    vhost.unbindExchange('right', 'top', '', {});
    assert.equal(vhost.publish(message('top', 'k')).routed, 0);
  } finally {
    await broker.stop();
  }
});

test('publish errors: missing exchange 404, internal exchange 403', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    amqpThrows(() => vhost.publish(message('nope', 'k')), (thrown: unknown) => {
      const err = asAmqp(thrown);
      assert.ok(err instanceof ChannelError);
      assert.equal(err.replyCode, 404);
      assert.equal(err.replyText, "NOT_FOUND - no exchange 'nope' in vhost '/'");
      return true;
    });
    declareExchange(vhost, 'inner', 'fanout', { internal: true });
    amqpThrows(() => vhost.publish(message('inner', 'k')), {
      replyCode: 403,
      message: "cannot publish to internal exchange 'inner' in vhost '/'",
    });
    // ...but an internal exchange is reachable through a binding.
    declareQueue(vhost, 'q', me);
    vhost.bindQueue('q', 'inner', '', {}, me);
    vhost.bindExchange('inner', 'amq.fanout', '', {});
    assert.equal(vhost.publish(message('amq.fanout', 'k')).routed, 1);
  } finally {
    await broker.stop();
  }
});

test('alternate exchange takes what the exchange cannot route', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareExchange(vhost, 'ae', 'fanout');
    declareExchange(vhost, 'main', 'direct', { arguments: { 'alternate-exchange': 'ae' } });
    declareQueue(vhost, 'routed', me);
    declareQueue(vhost, 'unrouted', me);
    vhost.bindQueue('routed', 'main', 'k', {}, me);
    vhost.bindQueue('unrouted', 'ae', '', {}, me);
    assert.equal(vhost.publish(message('main', 'k')).routed, 1);
    assert.equal(vhost.publish(message('main', 'other')).routed, 1);
    assert.deepEqual([vhost.getQueue('routed')!.readyCount(), vhost.getQueue('unrouted')!.readyCount()], [1, 1]);
    // An alternate-exchange loop ends.
    declareExchange(vhost, 'x1', 'direct', { arguments: { 'alternate-exchange': 'x2' } });
    declareExchange(vhost, 'x2', 'direct', { arguments: { 'alternate-exchange': 'x1' } });
    assert.equal(vhost.publish(message('x1', 'k')).routed, 0);
  } finally {
    await broker.stop();
  }
});

test('auto-delete exchange dies with its last binding, whichever way it goes', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareExchange(vhost, 'ad', 'fanout', { autoDelete: true });
    declareQueue(vhost, 'q1', me);
    declareQueue(vhost, 'q2', me);
    vhost.bindQueue('q1', 'ad', '', {}, me);
    vhost.bindQueue('q2', 'ad', '', {}, me);
    vhost.unbindQueue('q1', 'ad', '', {}, me);
    assert.ok(vhost.exchanges.has('ad'), 'one binding left');
    vhost.deleteQueue('q2', { ifUnused: false, ifEmpty: false }, me);
    assert.ok(!vhost.exchanges.has('ad'), 'deleting the last bound queue removes it');

    declareExchange(vhost, 'ad2', 'fanout', { autoDelete: true });
    assert.ok(vhost.exchanges.has('ad2'), 'never bound: stays');
    declareExchange(vhost, 'dest', 'fanout');
    vhost.bindExchange('dest', 'ad2', '', {});
    vhost.deleteExchange('dest', false);
    assert.ok(!vhost.exchanges.has('ad2'), 'deleting the destination exchange removes the last binding');
  } finally {
    await broker.stop();
  }
});

test('deleting an exchange removes its bindings at both ends', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareExchange(vhost, 'x', 'direct');
    declareQueue(vhost, 'q', me);
    vhost.bindQueue('q', 'x', 'k', {}, me);
    vhost.bindExchange('x', 'amq.fanout', '', {});
    amqpThrows(() => vhost.deleteExchange('x', true), { replyCode: 406, message: "exchange 'x' in vhost '/' in use" });
    vhost.deleteExchange('x', false);
    assert.equal(vhost.getQueue('q')!.bindings.size, 0);
    assert.equal(vhost.getExchange('amq.fanout')!.bindings.size, 0);
    assert.equal(vhost.publish(message('amq.fanout', 'k')).routed, 0);
    vhost.deleteExchange('x', false); // idempotent
  } finally {
    await broker.stop();
  }
});

test('bindings with different arguments are different bindings', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareQueue(vhost, 'q', me);
    vhost.bindQueue('q', 'amq.direct', 'k', { a: 1 }, me);
    vhost.bindQueue('q', 'amq.direct', 'k', { a: new TypedValue('s', 1) }, me); // same value class: same binding
    vhost.bindQueue('q', 'amq.direct', 'k', { a: 2 }, me);
    assert.equal(vhost.getQueue('q')!.bindings.size, 2);
    assert.equal(vhost.publish(message('amq.direct', 'k')).routed, 1, 'still one copy per queue');
    vhost.unbindQueue('q', 'amq.direct', 'k', { a: 3 }, me); // no such binding: fine
    vhost.unbindQueue('q', 'amq.direct', 'k', { a: 1 }, me);
    assert.equal(vhost.getQueue('q')!.bindings.size, 1);
  } finally {
    await broker.stop();
  }
});

test('a consumer publishing from inside deliver does not disturb the routing in progress', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    for (const q of ['a', 'b', 'c']) {
      declareQueue(vhost, q, me);
      vhost.bindQueue(q, 'amq.fanout', '', {}, me);
    }
    declareQueue(vhost, 'echo', me);
    vhost.bindQueue('echo', 'amq.direct', 'echo', {}, me);
    const queueA = vhost.getQueue('a')!;
    let echoed = 0;
    queueA.addConsumer({
      tag: 'echoer',
      noAck: true,
      exclusive: false,
      priority: 0,
      arguments: {},
      owner: me,
      canTake: () => true,
      deliver: () => {
        echoed += vhost.publish(message('amq.direct', 'echo')).routed;
      },
      cancelledByBroker: () => {},
    });
    assert.equal(vhost.publish(message('amq.fanout', '')).routed, 3);
    assert.equal(echoed, 1);
    assert.deepEqual(reached(vhost, ['b', 'c', 'echo']), ['b', 'c', 'echo']);
  } finally {
    await broker.stop();
  }
});
