/**
 * pika 1.x BlockingConnection against Warren: declare, properties and every header type pika encodes,
 * basic.get, consume with acks (callback and generator), prefetch, confirms with mandatory returns
 * (UnroutableError), basic.return without confirms, channel errors with the connection surviving,
 * basic.recover, consumer cancel notification,
 * exchange types, transactions, and 1-second heartbeats both ways.
 */
import { test } from 'node:test';
import { PYTHON, assertAllConnectionsClosed, assertSteps, brokerFor, missingPythonModule, runClient } from './compat-helpers.js';

const skip = missingPythonModule('pika', 'python3-pika');

test('pika BlockingConnection works unmodified against Warren', { skip, timeout: 60_000 }, async (t) => {
  const broker = await brokerFor(t);
  const result = await runClient(t, PYTHON, ['pika_client.py', broker.url]);
  const details = assertSteps(result, [
    'declare',
    'properties-and-headers',
    'basic-get',
    'consume-acks',
    'consume-generator',
    'basic-qos',
    'confirms-and-unroutable',
    'return-callback',
    'channel-error-404',
    'recover-and-cancel-notify',
    'exchange-types',
    'tx',
    'close',
    'heartbeat',
  ]);
  t.diagnostic(`heartbeat frames pika received from Warren in 3.5 s: ${details.get('heartbeat')}`);
  await assertAllConnectionsClosed(broker);
});
