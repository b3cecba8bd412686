import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amqpPriority, backoffDelay } from '../../../src/jobs/backoff.js';

test('backoff: fixed, exponential, jitter within [delay*(1-jitter), delay], custom strategy', () => {
  const error = new Error('x');
  assert.equal(backoffDelay(500, 3, error, {}, undefined), 500);
  assert.equal(backoffDelay({ type: 'exponential', delay: 100 }, 1, error, {}, undefined), 100);
  assert.equal(backoffDelay({ type: 'exponential', delay: 100 }, 4, error, {}, undefined), 800);
  assert.equal(backoffDelay({ type: 'exponential', delay: 100, jitter: 0.5 }, 2, error, {}, undefined, () => 1), 100);
  assert.equal(backoffDelay({ type: 'exponential', delay: 100, jitter: 0.5 }, 2, error, {}, undefined, () => 0), 200);
  assert.equal(backoffDelay({ type: 'mine' }, 2, error, {}, (attempts, type) => (type === 'mine' ? attempts * 7 : -1)), 14);
  assert.throws(() => backoffDelay({ type: 'mine' }, 2, error, {}, undefined));
  assert.equal(backoffDelay(undefined, 1, error, {}, undefined), 0);
});

test("priority: BullMQ's 1-highest (none first) onto AMQP 0..9", () => {
  assert.equal(amqpPriority(undefined), 9);
  assert.equal(amqpPriority(1), 8);
  assert.ok(amqpPriority(2) < amqpPriority(1));
  assert.equal(amqpPriority(1000), 0);
});
