import test from 'node:test';
import assert from 'node:assert/strict';
import { ChannelError } from '../../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../../helpers/amqp-errors.js';
import { Message, TypedValue } from '../../../../src/broker/message.js';
import { deadLetteredMessage, isDeadLetterCycle } from '../../../../src/broker/queue/dead-letter.js';
import { DeduplicationCache } from '../../../../src/broker/queue/deduplication.js';
import { MinHeap } from '../../../../src/broker/queue/min-heap.js';
import { parseQueueArguments } from '../../../../src/broker/queue/queue-arguments.js';

const resource = "queue 'q' in vhost '/'";

test('parseQueueArguments: values, defaults and the first error in RabbitMQ order', () => {
  const settings = parseQueueArguments(
    { 'x-message-ttl': new TypedValue('l', 5), 'x-max-priority': 0, 'x-overflow': 'reject-publish' },
    resource,
  );
  assert.equal(settings.messageTtl, 5);
  assert.equal(settings.maxPriority, undefined, 'x-max-priority 0 means no priorities');
  assert.equal(settings.overflow, 'reject-publish');
  assert.equal(parseQueueArguments({}, resource).overflow, 'drop-head');
  amqpThrows(
    () => parseQueueArguments({ 'x-max-length': -1, 'x-expires': -2 }, resource),
    (thrown: unknown) => {
      const err = asAmqp(thrown);
      return err instanceof ChannelError && err.replyCode === 406 && err.message === "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_negative,-2}";
    },
  );
});

test('deadLetteredMessage: new and repeated deaths; expiration moved into original-expiration', () => {
  const original = new Message('ex', 'rk', { expiration: '100', headers: { CC: ['cc1'] } }, Buffer.from('b'));
  const once = deadLetteredMessage(original, 'expired', 'q1', { exchange: 'dlx', routingKey: undefined }, 5000);
  assert.equal(once.exchange, 'dlx');
  assert.equal(once.routingKey, 'rk');
  assert.equal(once.properties.expiration, undefined);
  assert.ok(once.body.buffer === original.body.buffer && once.body.byteOffset === original.body.byteOffset, 'the body is shared, not copied');
  const [death] = once.properties.headers!['x-death'] as Record<string, unknown>[];
  assert.deepEqual(death!['routing-keys'], ['rk', 'cc1']);
  assert.equal(death!['original-expiration'], '100');
  assert.deepEqual(death!['time'], new TypedValue('T', 5));
  const other = deadLetteredMessage(once, 'rejected', 'q2', { exchange: 'dlx2', routingKey: 'k' }, 6000);
  const twice = deadLetteredMessage(other, 'expired', 'q1', { exchange: 'dlx', routingKey: undefined }, 7000);
  const deaths = twice.properties.headers!['x-death'] as Record<string, unknown>[];
  assert.deepEqual(
    deaths.map((d) => [d['queue'], d['reason'], (d['count'] as TypedValue).value]),
    [
      ['q1', 'expired', 2],
      ['q2', 'rejected', 1],
    ],
  );
  assert.equal(twice.properties.headers!['x-first-death-queue'], 'q1');
  assert.equal(twice.properties.headers!['x-last-death-queue'], 'q1');
  assert.equal(twice.properties.headers!['x-last-death-exchange'], 'dlx2');
});

test('isDeadLetterCycle follows rabbit_dead_letter:is_cycle', () => {
  const at = (deaths: [string, string][]): Message =>
    new Message('', '', { headers: { 'x-death': deaths.map(([queue, reason]) => ({ queue, reason })) } }, Buffer.alloc(0));
  assert.equal(isDeadLetterCycle(at([['a', 'expired']]), 'a'), true);
  assert.equal(isDeadLetterCycle(at([['a', 'expired']]), 'b'), false);
  assert.equal(isDeadLetterCycle(at([['b', 'maxlen'], ['a', 'expired']]), 'a'), true);
  assert.equal(isDeadLetterCycle(at([['b', 'rejected'], ['a', 'expired']]), 'a'), false);
  assert.equal(isDeadLetterCycle(at([['a', 'rejected']]), 'a'), false);
});

test('DeduplicationCache: presence mode forgets on leave; window mode by time and size', () => {
  const msg = (id: string): Message => new Message('', '', { headers: { 'x-deduplication-header': id } }, Buffer.alloc(0));
  const presence = new DeduplicationCache({ cacheTtl: undefined, cacheSize: undefined });
  assert.equal(presence.admit(msg('a'), 0), true);
  assert.equal(presence.admit(msg('a'), 1e9), false);
  presence.forget(msg('a'));
  assert.equal(presence.admit(msg('a'), 1e9), true);

  const window = new DeduplicationCache({ cacheTtl: 10, cacheSize: 2 });
  assert.equal(window.admit(msg('a'), 0), true);
  assert.equal(window.admit(msg('a'), 9), false);
  assert.equal(window.admit(msg('a'), 10), true, 'expired after x-cache-ttl');
  window.admit(msg('b'), 11);
  window.admit(msg('c'), 12);
  assert.equal(window.size, 2, 'x-cache-size bounds it');
  assert.equal(window.admit(msg('a'), 13), true, 'the oldest was evicted');
});

test('MinHeap pops in order and retain rebuilds', () => {
  const heap = new MinHeap<number>((a, b) => a < b);
  for (const n of [5, 1, 9, 3, 7, 2, 8]) heap.push(n);
  heap.retain((n) => n !== 3);
  const out: number[] = [];
  for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);
  assert.deepEqual(out, [1, 2, 5, 7, 8, 9]);
});

test('MinHeap breaks ties with its comparator (equal expiries leave in queue order)', () => {
  const heap = new MinHeap<{ at: number; seq: number }>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  for (const seq of [4, 1, 3, 0, 2, 6, 5]) heap.push({ at: 100, seq });
  const out: number[] = [];
  for (let e = heap.pop(); e !== undefined; e = heap.pop()) out.push(e.seq);
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6]);
});
