/**
 * py-amqp, the transport under kombu and Celery: AMQPLAIN and PLAIN logins, capabilities, every header
 * type it encodes ('L' for big ints included), a 1 MiB body, consume with multiple acks, reject and
 * redelivery, confirms, nowait methods, channel errors, a refused login (403) and heartbeats.
 */
import { test } from 'node:test';
import { PYTHON, assertAllConnectionsClosed, assertSteps, brokerFor, missingPythonModule, runClient } from './compat-helpers.js';

const skip = missingPythonModule('amqp', 'python3-amqp');

test('py-amqp works unmodified against Warren', { skip, timeout: 60_000 }, async (t) => {
  const broker = await brokerFor(t);
  const result = await runClient(t, PYTHON, ['pyamqp_client.py', broker.url]);
  assertSteps(result, [
    'connect',
    'declare',
    'publish-get',
    'large-message',
    'consume',
    'reject-requeue',
    'confirm',
    'nowait',
    'channel-errors',
    'close',
    'access-refused',
    'heartbeat',
  ]);
  await assertAllConnectionsClosed(broker);
});
