import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { ChannelError, ConnectionError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';
import {
  createDelayedMessageType,
  DelayedMessageRouter,
  DueHeap,
  requestedDelay,
  type DelayedMessageStore,
  type PendingDelayedMessage,
} from '../../../src/broker/exchanges/delayed/index.js';
import type { Exchange } from '../../../src/broker/exchanges/exchange.js';
import { TypedValue, type FieldTable, type FieldValue } from '../../../src/broker/message.js';
import type { Queue } from '../../../src/broker/queue.js';
import type { VHost } from '../../../src/broker/vhost.js';
import { declareExchange, declareQueue, FakeConsumer, message, owner, startedVhost } from './fakes.js';

const me = owner();

function delayed(vhost: VHost, delayMs: FieldValue | undefined, body: string, routingKey = 'k', exchange = 'dx') {
  const headers: FieldTable = delayMs === undefined ? {} : { 'x-delay': delayMs };
  return vhost.publish(message(exchange, routingKey, body, { headers, deliveryMode: 2 }));
}

/** Delayed exchange 'dx' of `type` bound to queue 'q' with `key`; returns 'q'. */
function delayedExchangeToQueue(vhost: VHost, type: string, key: string): Queue {
  declareExchange(vhost, 'dx', 'x-delayed-message', { arguments: { 'x-delayed-type': type } });
  const queue = declareQueue(vhost, 'q', me);
  vhost.bindQueue('q', 'dx', key, {}, me);
  return queue;
}

function routerOf(vhost: VHost, name = 'dx'): DelayedMessageRouter {
  return vhost.getExchange(name)!.router as DelayedMessageRouter;
}

test('DueHeap pops in (due, insertion) order across pages and gives memory back when drained', () => {
  const heap = new DueHeap<number>();
  const dues: number[] = [];
  let seed = 42;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 20_000; i++) {
    const due = Math.floor(random() * 100); // many equal due times
    dues.push(due);
    heap.push(due, i, i);
  }
  const grown = heap.capacity;
  assert.ok(grown >= 20_000 && grown < 40_000, `capacity ${grown} grows by pages`);
  const expected = dues.map((due, i) => ({ due, i })).sort((a, b) => a.due - b.due || a.i - b.i).map((x) => x.i);
  const popped: number[] = [];
  while (heap.size > 0) {
    const item = heap.pop()!;
    assert.equal(heap.poppedSeq, item);
    assert.equal(heap.poppedDue, dues[item]);
    popped.push(item);
  }
  assert.deepEqual(popped, expected);
  assert.equal(heap.pop(), undefined);
  assert.equal(heap.peekDue(), Infinity);
  assert.ok(heap.capacity < grown / 4, `capacity ${heap.capacity} given back`);
});

test('DueHeap keeps its order when pushes and pops interleave around page boundaries', () => {
  const heap = new DueHeap<number>();
  let seed = 7;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const dueOf: number[] = [];
  let pushed = 0;
  let popped = 0;
  let lastDue = -Infinity;
  let lastSeq = -Infinity;
  const popInOrder = () => {
    const item = heap.pop()!;
    const due = heap.poppedDue;
    assert.equal(heap.poppedSeq, item);
    assert.equal(due, dueOf[item], 'an item keeps its own keys');
    assert.ok(due > lastDue || (due === lastDue && item > lastSeq), `${due}/${item} after ${lastDue}/${lastSeq}`);
    lastDue = due;
    lastSeq = item;
    popped++;
  };
  let largest = 0;
  for (let round = 0; round < 60_000; round++) {
    // Pushes win slightly, so the size wanders up over several pages; a push is never due before the
    // last pop, so the pops as a whole must come out in (due, sequence) order.
    if (random() < 0.6 || heap.size === 0) {
      dueOf.push(Math.max(lastDue, 0) + Math.floor(random() * 50));
      heap.push(dueOf[pushed]!, pushed, pushed);
      pushed++;
    } else {
      popInOrder();
    }
    largest = Math.max(largest, heap.size);
  }
  assert.ok(largest > 2 * 4096, `size reached ${largest}: spans pages`);
  while (heap.size > 0) popInOrder();
  assert.equal(popped, pushed);
});

test('x-delay parsing follows the plugin: ints, numeric strings, truncated floats; others route now', () => {
  const delayOf = (v: FieldValue) => requestedDelay(message('dx', 'k', '', { headers: { 'x-delay': v } }));
  assert.equal(delayOf(1500), 1500);
  assert.equal(delayOf('250'), 250);
  assert.equal(delayOf(12.9), 12);
  assert.equal(delayOf(new TypedValue('b', 7)), 7);
  assert.equal(delayOf(5n), 5);
  assert.equal(delayOf(-5), 0);
  assert.equal(delayOf(0), 0);
  assert.equal(delayOf('soon'), 0);
  assert.equal(delayOf(2 ** 32), 0, 'beyond the plugin limit: at once');
  assert.equal(requestedDelay(message('dx', 'k')), 0);
});

test('declare needs an existing x-delayed-type (406 missing, 503 unknown) and inherits its checks', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    amqpThrows(
      () => declareExchange(vhost, 'd1', 'x-delayed-message'),
      (thrown: unknown) => {
        const e = asAmqp(thrown);
        return e instanceof ChannelError && e.replyCode === 406 && /x-delayed-type/.test(e.message);
      },
    );
    amqpThrows(
      () => declareExchange(vhost, 'd2', 'x-delayed-message', { arguments: { 'x-delayed-type': 'x-delayed-message' } }),
      (thrown: unknown) => {
        const e = asAmqp(thrown);
        return e instanceof ChannelError && e.replyCode === 406;
      },
    );
    amqpThrows(
      () => declareExchange(vhost, 'd3', 'x-delayed-message', { arguments: { 'x-delayed-type': 'nope' } }),
      (thrown: unknown) => {
        const e = asAmqp(thrown);
        return e instanceof ConnectionError && e.replyCode === 503 && e.message === "invalid exchange type 'nope'";
      },
    );
    amqpThrows(
      () =>
        declareExchange(vhost, 'd4', 'x-delayed-message', {
          arguments: { 'x-delayed-type': 'x-consistent-hash', 'hash-property': 'nope' },
        }),
      (thrown: unknown) => {
        const e = asAmqp(thrown);
        return e instanceof ChannelError && e.message === 'Unsupported property: nope';
      },
    );
    declareExchange(vhost, 'dh', 'x-delayed-message', { arguments: { 'x-delayed-type': 'headers' } });
    declareQueue(vhost, 'q', me);
    amqpThrows(
      () => vhost.bindQueue('q', 'dh', '', { 'x-match': 'some' }, me),
      (thrown: unknown) => {
        const e = asAmqp(thrown);
        return e instanceof ChannelError && e.replyCode === 406 && /x-match/.test(e.message);
      },
    );
    assert.deepEqual([...vhost.exchanges.keys()].filter((n) => n.startsWith('d')), ['dh']);
  } finally {
    await broker.stop();
  }
});

test('delayed messages count as routed, wait, then arrive in due order with x-delay negated', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const consumer = new FakeConsumer('c', { noAck: true });
    delayedExchangeToQueue(vhost, 'direct', 'k').addConsumer(consumer);
    const start = Date.now();
    assert.equal(delayed(vhost, 120, 'late').routed, 1);
    assert.equal(delayed(vhost, 40, 'early').routed, 1);
    assert.equal(delayed(vhost, 80, 'middle').routed, 1);
    assert.equal(delayed(vhost, -10, 'now').routed, 1, 'negative delay routes at once');
    assert.equal(delayed(vhost, 80, 'unroutable', 'other').routed, 1, 'held messages count as routed');
    assert.deepEqual(consumer.bodies(), ['now']);
    assert.equal(routerOf(vhost).pendingCount, 4);
    const arrivals = new Map<string, number>();
    const poll = async () => {
      while (consumer.received.length < 4) {
        for (const r of consumer.received) if (!arrivals.has(r.body)) arrivals.set(r.body, Date.now() - start);
        await sleep(2);
      }
      for (const r of consumer.received) if (!arrivals.has(r.body)) arrivals.set(r.body, Date.now() - start);
    };
    await poll();
    assert.deepEqual(consumer.bodies(), ['now', 'early', 'middle', 'late']);
    for (const [body, due] of [['early', 40], ['middle', 80], ['late', 120]] as const) {
      const at = arrivals.get(body)!;
      // Never early; how late is for bench/delayed.ts (a timed bound would flake on a busy machine).
      assert.ok(at >= due, `${body} due ${due} ms arrived at ${at} ms`);
    }
    const late = consumer.received[3]!.entry.message;
    assert.equal(late.properties.headers?.['x-delay'], -120);
    assert.equal(late.properties.deliveryMode, 2, 'other properties kept');
    assert.ok(late.publishedAt >= start + 120, 'counts as published when due (queue TTL starts then)');
    await sleep(20);
    const stats = routerOf(vhost).stats;
    assert.deepEqual({ ...stats }, { delayed: 4, released: 4, unroutable: 1, failed: 0 });
    assert.equal(routerOf(vhost).pendingCount, 0);
  } finally {
    await broker.stop();
  }
});

test('a backlog larger than one release batch leaves over several turns, by due time then arrival', async () => {
  const { broker, vhost } = await startedVhost();
  let clock = 1_000;
  broker.exchangeTypes.register(createDelayedMessageType(broker.exchangeTypes, { now: () => clock, releaseBatch: 7 }));
  try {
    const consumer = new FakeConsumer('c', { noAck: true });
    delayedExchangeToQueue(vhost, 'fanout', '').addConsumer(consumer);
    const sent: { delay: number; body: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const delay = 10 * (1 + ((i * 3) % 4)); // four due times, many messages each
      sent.push({ delay, body: `m${i}` });
      delayed(vhost, delay, `m${i}`);
    }
    clock += 1_000; // all due at once
    for (let waited = 0; consumer.received.length < 50 && waited < 2_000; waited += 5) await sleep(5);
    const expected = sent.map((m, i) => ({ ...m, i })).sort((a, b) => a.delay - b.delay || a.i - b.i).map((m) => m.body);
    assert.deepEqual(consumer.bodies(), expected);
    assert.equal(routerOf(vhost).stats.released, 50);
    assert.equal(routerOf(vhost).pendingCount, 0);
  } finally {
    await broker.stop();
  }
});

test('each x-delayed-type routes once due; the alternate exchange is used at due time', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareQueue(vhost, 'ae-q', me);
    declareExchange(vhost, 'ae', 'fanout');
    vhost.bindQueue('ae-q', 'ae', '', {}, me);
    const cases = [
      ['direct', 'a.b', {}],
      ['fanout', 'ignored', {}],
      ['topic', 'a.*', {}],
      ['headers', '', { 'x-match': 'all', kind: 'x' }],
    ] as const;
    for (const [type, bindingKey, bindArgs] of cases) {
      declareExchange(vhost, `d-${type}`, 'x-delayed-message', {
        arguments: { 'x-delayed-type': type, 'alternate-exchange': 'ae' },
      });
      declareQueue(vhost, `q-${type}`, me);
      vhost.bindQueue(`q-${type}`, `d-${type}`, bindingKey, bindArgs, me);
      const props = { headers: { 'x-delay': 30, kind: 'x' } };
      vhost.publish(message(`d-${type}`, 'a.b', type, props));
      vhost.publish(message(`d-${type}`, 'zzz', 'miss', { headers: { 'x-delay': 30, kind: 'y' } }));
    }
    assert.equal(vhost.getQueue('ae-q')!.readyCount(), 0, 'the alternate exchange is not used at publish time');
    await sleep(90);
    for (const [type] of cases) {
      const queue = vhost.getQueue(`q-${type}`)!;
      const bodies: string[] = [];
      for (let e = queue.get(true); e !== undefined; e = queue.get(true)) bodies.push(e.message.body.toString());
      assert.deepEqual(bodies, type === 'fanout' ? [type, 'miss'] : [type], type);
    }
    assert.equal(vhost.getQueue('ae-q')!.readyCount(), 3, 'misses of direct, topic, headers');
  } finally {
    await broker.stop();
  }
});

test('a publish from inside a delivery of a released message is delayed, not routed at once', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const arrivals = new Map<string, number>();
    const consumer = new FakeConsumer('c', { noAck: true });
    const deliver = consumer.deliver.bind(consumer);
    consumer.deliver = (entry, from) => {
      deliver(entry, from);
      const body = entry.message.body.toString();
      arrivals.set(body, Date.now());
      if (body === 'first') delayed(vhost, 30, 'second');
    };
    delayedExchangeToQueue(vhost, 'fanout', '').addConsumer(consumer);
    delayed(vhost, 10, 'first');
    for (let waited = 0; consumer.received.length < 2 && waited < 2_000; waited += 5) await sleep(5);
    assert.deepEqual(consumer.bodies(), ['first', 'second']);
    // Not early: the second publish waited its own 30 ms (how late is for bench/delayed.ts).
    assert.ok(arrivals.get('second')! - arrivals.get('first')! >= 30);
  } finally {
    await broker.stop();
  }
});

test('deleting the exchange drops its pending messages and its timer', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    delayedExchangeToQueue(vhost, 'fanout', '');
    const router = routerOf(vhost);
    delayed(vhost, 20, 'gone');
    vhost.deleteExchange('dx', false);
    assert.equal(router.pendingCount, 0);
    await sleep(40);
    assert.equal(vhost.getQueue('q')!.readyCount(), 0);
    assert.equal(router.stats.released, 0);
  } finally {
    await broker.stop();
  }
});

/** Records what the router asks of the durability seam. */
class RecordingStore implements DelayedMessageStore {
  readonly kept = new Map<string, Map<number, PendingDelayedMessage>>();
  dropped: string[] = [];
  private of(exchange: Exchange) {
    const key = `${exchange.vhost.name}/${exchange.name}`;
    let map = this.kept.get(key);
    if (map === undefined) this.kept.set(key, (map = new Map()));
    return map;
  }
  add(exchange: Exchange, pending: PendingDelayedMessage): void {
    this.of(exchange).set(pending.id, pending);
  }
  remove(exchange: Exchange, id: number): void {
    this.of(exchange).delete(id);
  }
  dropExchange(exchange: Exchange): void {
    this.dropped.push(exchange.name);
    this.kept.delete(`${exchange.vhost.name}/${exchange.name}`);
  }
  async recover(exchange: Exchange): Promise<PendingDelayedMessage[]> {
    return [...this.of(exchange).values()];
  }
}

test('durability seam: persistent messages of a durable exchange are kept, removed on release, recovered', async () => {
  const store = new RecordingStore();
  const { broker, vhost } = await startedVhost();
  broker.exchangeTypes.register(createDelayedMessageType(broker.exchangeTypes, { store }));
  try {
    declareExchange(vhost, 'dx', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'fanout' } });
    declareExchange(vhost, 'transient', 'x-delayed-message', { arguments: { 'x-delayed-type': 'fanout' } });
    declareQueue(vhost, 'q', me);
    vhost.bindQueue('q', 'dx', '', {}, me);
    delayed(vhost, 30, 'kept');
    delayed(vhost, 10_000, 'survives');
    vhost.publish(message('dx', 'k', 'transient-message', { headers: { 'x-delay': 30 }, deliveryMode: 1 }));
    delayed(vhost, 30, 'not-durable-exchange', 'k', 'transient');
    assert.deepEqual([...store.kept.get('//dx')!.values()].map((p) => p.message.body.toString()), ['kept', 'survives']);
    assert.equal(store.kept.has('//transient'), false);
    await sleep(60);
    assert.deepEqual([...store.kept.get('//dx')!.values()].map((p) => p.message.body.toString()), ['survives']);

    // "Restart": a second broker recovers the pending message through the same store.
    const second = await startedVhost();
    second.broker.exchangeTypes.register(createDelayedMessageType(second.broker.exchangeTypes, { store }));
    try {
      declareExchange(second.vhost, 'dx', 'x-delayed-message', { durable: true, arguments: { 'x-delayed-type': 'fanout' } });
      await sleep(0); // recovery reads the store asynchronously
      const recovered = routerOf(second.vhost);
      assert.equal(recovered.pendingCount, 1);
      assert.equal(recovered.nextDue, store.kept.get('//dx')!.values().next().value!.dueAt);
      second.vhost.deleteExchange('dx', false);
      assert.deepEqual(store.dropped, ['dx']);
    } finally {
      await second.broker.stop();
    }
  } finally {
    await broker.stop();
  }
});
