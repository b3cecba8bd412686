import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/config/file.js';

test('the Kafka door is off unless a kafka setting is given', () => {
  assert.equal(loadConfig({ env: {}, flags: {} }).kafka, undefined);
});

test('--kafka-port and WARREN_KAFKA_* turn it on with Kafka defaults', () => {
  const config = loadConfig({ env: { WARREN_KAFKA_AUTO_CREATE_TOPICS: 'true' }, flags: { 'kafka-port': '0', 'amqp-host': '127.0.0.1' } });
  assert.deepEqual(config.kafka, {
    host: '127.0.0.1',
    port: 0,
    vhost: '/',
    advertisedHost: undefined,
    advertisedPort: undefined,
    autoCreateTopics: true,
    requireSasl: false,
    maxRequestBytes: 100 * 1024 * 1024,
    defaultPartitions: 1,
  });
});

test('the kafka: section of the config file is validated', () => {
  const layer = parseConfigText('kafka:\n  port: 9092\n  advertisedHost: broker.example\n  vhost: events\n', 'warren.yaml', '/');
  assert.deepEqual(layer.kafka, { port: 9092, advertisedHost: 'broker.example', vhost: 'events' });
  assert.throws(() => parseConfigText('kafka:\n  port: 90000\n', 'warren.yaml', '/'), /kafka\.port/);
  assert.throws(() => parseConfigText('kafka:\n  nope: 1\n', 'warren.yaml', '/'), /nope/);
});
