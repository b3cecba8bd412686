/**
 * pika 1.x BlockingConnection against Warren: declare, properties and every header type pika encodes,
 * basic.get, consume with acks (callback and generator), prefetch, confirms with mandatory returns
 * (UnroutableError), basic.return without confirms, channel errors with the connection surviving,
 * basic.recover, consumer cancel notification, exchange types, transactions, refused logins and vhosts, 1-second heartbeats both
 * ways, and connection.blocked/unblocked around a resource alarm.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import {
  PYTHON,
  assertAllConnectionsClosed,
  assertSteps,
  brokerFor,
  missingPythonModule,
  runClient,
  startClient,
} from './compat-helpers.js';

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
    'refused-connections',
    'heartbeat',
  ]);
  t.diagnostic(`heartbeat frames pika received from Warren in 3.5 s: ${details.get('heartbeat')}`);
  await assertAllConnectionsClosed(broker);
});

test('pika sees connection.blocked and connection.unblocked, and its publish waits out the alarm', { skip, timeout: 30_000 }, async (t) => {
  const broker = await brokerFor(t);
  const client = startClient(t, PYTHON, ['pika_blocked.py', broker.url], { timeoutMs: 25_000 });
  await client.waitForOutput(/^ok ready$/m);
  broker.listener.setBlocked('low on memory');
  await client.waitForOutput(/^ok blocked /m);
  const queue = [...(broker.broker.getVhost('/')?.queues.values() ?? [])].find((q) => q.name.startsWith('blocked-'));
  assert.ok(queue !== undefined, 'the client declared its queue');
  await delay(200);
  const heldAt = queue.readyCount();
  await delay(300);
  assert.equal(queue.readyCount(), heldAt, 'nothing gets through while the connection is blocked');
  broker.listener.setBlocked(undefined);
  const details = assertSteps(await client.result, ['ready', 'blocked', 'unblocked']);
  assert.equal(details.get('blocked'), 'low on memory');
  assert.ok(Number(details.get('unblocked')) > heldAt, `held publishes arrive after unblocking (${heldAt} before, ${details.get('unblocked')} after)`);
  await assertAllConnectionsClosed(broker);
});
