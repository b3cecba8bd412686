import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';
import { ConsistentHashRouter, hashBytes, hashString } from '../../../src/broker/exchanges/consistent-hash.js';
import type { BasicProperties } from '../../../src/broker/message.js';
import type { VHost } from '../../../src/broker/vhost.js';
import { declareExchange, declareQueue, message, owner, startedVhost } from './fakes.js';

const me = owner();

function ring(vhost: VHost, exchange = 'chx'): ConsistentHashRouter {
  return vhost.getExchange(exchange)!.router as ConsistentHashRouter;
}

/** Which queue each key goes to, as the exchange would route it. */
function mapping(vhost: VHost, keys: string[], properties: (key: string) => BasicProperties = () => ({})): string[] {
  return keys.map((key) => ring(vhost).destinationFor(message('chx', key, '', properties(key)))?.name ?? '-');
}

async function hashExchangeWith(bindings: [queue: string, weight: string][], args = {}) {
  const started = await startedVhost();
  declareExchange(started.vhost, 'chx', 'x-consistent-hash', { arguments: args });
  for (const [queue, weight] of bindings) {
    if (!started.vhost.queues.has(queue)) declareQueue(started.vhost, queue, me);
    started.vhost.bindQueue(queue, 'chx', weight, {}, me);
  }
  return started;
}

const keys = Array.from({ length: 40_000 }, (_, i) => `key-${i}`);

test('hash functions are stable for equal input and spread different input', () => {
  assert.equal(hashString('order-17'), hashString('order-17'));
  assert.notEqual(hashString('order-17'), hashString('order-18'));
  assert.equal(hashBytes(Buffer.from('abcde')), hashBytes(Buffer.from('abcde')));
  assert.notEqual(hashBytes(Buffer.from('abcde')), hashBytes(Buffer.from('abcdf')));
  const buckets = new Array<number>(16).fill(0);
  for (const key of keys) buckets[hashString(key) >>> 28]! += 1;
  for (const count of buckets) assert.ok(Math.abs(count - keys.length / 16) < keys.length / 16 / 10, `${buckets}`);
});

test('weights 1,1,2,4 split the keys 1:1:2:4 within 15%', async () => {
  const { broker, vhost } = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '2'], ['q4', '4']]);
  try {
    const counts = new Map<string, number>();
    for (const key of keys) {
      vhost.publish(message('chx', key));
    }
    for (const q of ['q1', 'q2', 'q3', 'q4']) counts.set(q, vhost.getQueue(q)!.readyCount());
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, keys.length, 'every message goes to exactly one queue');
    const expected = { q1: 1 / 8, q2: 1 / 8, q3: 2 / 8, q4: 4 / 8 };
    for (const [q, share] of Object.entries(expected)) {
      const actual = counts.get(q)! / total;
      assert.ok(Math.abs(actual - share) / share < 0.15, `${q}: ${actual.toFixed(3)} vs ${share}`);
    }
  } finally {
    await broker.stop();
  }
});

test('a key always goes to the same queue, whatever order the bindings were made in', async () => {
  const a = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '2'], ['q4', '4']]);
  const b = await hashExchangeWith([['q4', '4'], ['q3', '2'], ['q2', '1'], ['q1', '1']]);
  try {
    const sample = keys.slice(0, 2000);
    const first = mapping(a.vhost, sample);
    assert.deepEqual(mapping(a.vhost, sample), first, 'sticky within one exchange');
    assert.deepEqual(mapping(b.vhost, sample), first, 'same on a second broker (a restart) with other binding order');
    for (let i = 0; i < 5; i++) a.vhost.publish(message('chx', 'sticky'));
    const holders = ['q1', 'q2', 'q3', 'q4'].filter((q) => a.vhost.getQueue(q)!.readyCount() > 0);
    assert.equal(holders.length, 1);
    assert.equal(a.vhost.getQueue(holders[0]!)!.readyCount(), 5);
  } finally {
    await a.broker.stop();
    await b.broker.stop();
  }
});

test('adding a queue moves keys only onto the new queue; unbinding moves them back', async () => {
  const { broker, vhost } = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '1']]);
  try {
    const sample = keys.slice(0, 5000);
    const before = mapping(vhost, sample);
    declareQueue(vhost, 'q5', me);
    vhost.bindQueue('q5', 'chx', '1', {}, me);
    const after = mapping(vhost, sample);
    let moved = 0;
    for (let i = 0; i < sample.length; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(after[i], 'q5', `key ${sample[i]} moved from ${before[i]} to ${after[i]}`);
    }
    assert.ok(moved > sample.length / 8 && moved < sample.length / 2.5, `moved ${moved}`);
    vhost.unbindQueue('q5', 'chx', '1', {}, me);
    assert.deepEqual(mapping(vhost, sample), before);
  } finally {
    await broker.stop();
  }
});

test('hash-header and hash-property choose what is hashed; a missing value always lands on one queue', async () => {
  const byHeader = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '1'], ['q4', '1']], { 'hash-header': 'user' });
  const byId = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '1'], ['q4', '1']], { 'hash-property': 'message_id' });
  const byTime = await hashExchangeWith([['q1', '1'], ['q2', '1'], ['q3', '1'], ['q4', '1']], { 'hash-property': 'timestamp' });
  try {
    const sample = keys.slice(0, 400);
    // Routing key ignored: same header, different routing keys -> same queue.
    const header = sample.map((k) => ring(byHeader.vhost).destinationFor(message('chx', k, '', { headers: { user: 'alice' } }))!.name);
    assert.equal(new Set(header).size, 1);
    const spread = mapping(byHeader.vhost, sample, (k) => ({ headers: { user: k } }));
    assert.equal(new Set(spread).size, 4, 'different header values spread');
    const missing = mapping(byHeader.vhost, sample);
    assert.equal(new Set(missing).size, 1, 'no header: one queue');

    const ids = mapping(byId.vhost, sample, (k) => ({ messageId: k }));
    assert.equal(new Set(ids).size, 4);
    assert.equal(new Set(mapping(byId.vhost, sample, () => ({ messageId: 'same' }))).size, 1);

    const times = mapping(byTime.vhost, sample, (k) => ({ timestamp: 1_700_000_000 + Number(k.slice(4)) }));
    assert.equal(new Set(times).size, 4);
  } finally {
    await byHeader.broker.stop();
    await byId.broker.stop();
    await byTime.broker.stop();
  }
});

test('declare and bind errors use the plugin texts (406)', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const refused = (fn: () => void, text: string | RegExp) =>
      amqpThrows(fn, (thrown: unknown) => {
      const err = asAmqp(thrown);
        assert.ok(err instanceof ChannelError);
        assert.equal(err.replyCode, 406);
        if (typeof text === 'string') assert.equal(err.message, text);
        else assert.match(err.message, text);
        return true;
      });
    refused(
      () => declareExchange(vhost, 'x1', 'x-consistent-hash', { arguments: { 'hash-header': 'h', 'hash-property': 'message_id' } }),
      'hash-header and hash-property are mutually exclusive',
    );
    refused(() => declareExchange(vhost, 'x2', 'x-consistent-hash', { arguments: { 'hash-property': 'app_id' } }), 'Unsupported property: app_id');
    assert.equal(vhost.exchanges.has('x1') || vhost.exchanges.has('x2'), false);
    declareExchange(vhost, 'chx', 'x-consistent-hash');
    declareQueue(vhost, 'q', me);
    refused(() => vhost.bindQueue('q', 'chx', 'abc', {}, me), 'The binding key must be an integer: <<"abc">>');
    refused(() => vhost.bindQueue('q', 'chx', '1.5', {}, me), /must be an integer/);
    refused(() => vhost.bindQueue('q', 'chx', '0', {}, me), 'The binding key must be greater than 0');
    refused(() => vhost.bindQueue('q', 'chx', '-3', {}, me), 'The binding key must be greater than 0');
    refused(() => vhost.bindQueue('q', 'chx', '100001', {}, me), /at most/);
    assert.equal(vhost.getExchange('chx')!.bindings.size, 0);
    assert.equal(vhost.publish(message('chx', 'k')).routed, 0, 'no bindings: unroutable');
  } finally {
    await broker.stop();
  }
});
