import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidFilter, parseShared, routingKeyToTopic, topicMatches, topicToRoutingKey } from '../../../src/mqtt/topics.js';

test('topics map to routing keys as RabbitMQ does, reversibly', () => {
  assert.equal(topicToRoutingKey('sensors/+/temp'), 'sensors.*.temp');
  assert.equal(topicToRoutingKey('a/#'), 'a.#');
  assert.equal(topicToRoutingKey('v1.2/x'), 'v1/2.x');
  for (const topic of ['a/b/c', '/leading', 'v1.2/x', 'trailing/', 'a//b']) assert.equal(routingKeyToTopic(topicToRoutingKey(topic)), topic);
});

test('filter validity (4.7.1)', () => {
  for (const ok of ['#', '+', 'a/+/b', 'a/#', '+/+', '/']) assert.equal(isValidFilter(ok), true, ok);
  for (const bad of ['', 'a#', 'a/#/b', 'a+/b', '#/a']) assert.equal(isValidFilter(bad), false, bad);
});

test('matching, with 4.7.2 for topics starting with $', () => {
  assert.equal(topicMatches('a/+/c', 'a/b/c'), true);
  assert.equal(topicMatches('a/+/c', 'a/b/d'), false);
  assert.equal(topicMatches('a/#', 'a'), true);
  assert.equal(topicMatches('a/#', 'a/b/c'), true);
  assert.equal(topicMatches('+', '/'), false);
  assert.equal(topicMatches('#', '$SYS/x'), false);
  assert.equal(topicMatches('$SYS/#', '$SYS/x'), true);
});

test('shared subscriptions parse, and malformed ones are refused', () => {
  assert.deepEqual(parseShared('$share/g1/a/+'), { group: 'g1', filter: 'a/+' });
  assert.equal(parseShared('a/b'), undefined);
  assert.throws(() => parseShared('$share/g1'));
  assert.throws(() => parseShared('$share//a'));
  assert.throws(() => parseShared('$share/g+/a'));
});
