/**
 * kombu on py-amqp: SimpleQueue put/get with compression and confirms, a Producer and two Consumers on
 * a topic exchange, and RPC over direct reply-to (kombu declares 'amq.rabbitmq.reply-to' first).
 */
import { test } from 'node:test';
import { PYTHON, assertAllConnectionsClosed, assertSteps, brokerFor, missingPythonModule, runClient } from './compat-helpers.js';

const skip = missingPythonModule('kombu', 'python3-kombu');

test('kombu works unmodified against Warren', { skip, timeout: 60_000 }, async (t) => {
  const broker = await brokerFor(t);
  const result = await runClient(t, PYTHON, ['kombu_client.py', broker.url]);
  assertSteps(result, ['simple-queue', 'topic-producer-consumer', 'direct-reply-to', 'close']);
  await assertAllConnectionsClosed(broker);
});
