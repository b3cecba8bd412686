import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker } from '../../../src/broker/broker.js';
import { BrokerError, BrokerErrorKind } from '../../../src/broker/errors.js';
import { MemoryStore } from '../../../src/store/memory-store.js';

const owner = { name: 'test' };
const stream = { name: 's', durable: true, exclusive: false, autoDelete: false, arguments: { 'x-queue-type': 'stream' } };

test('a stream queue is refused in a cluster (each node would keep its own log) and declared on a single broker', async () => {
  const definitions = new MemoryStore();
  await definitions.open();
  const clustered = new Broker({
    cluster: { definitions, loadDefinitions: async () => [], placement: { storeFor: (_args, local) => local, remoteOwnerFor: () => undefined } },
  });
  await clustered.start();
  try {
    assert.throws(
      () => clustered.getVhost('/')!.declareQueue(stream, owner),
      (error: unknown) => error instanceof BrokerError && error.kind === BrokerErrorKind.NotImplemented && /not available in a cluster/.test(error.message),
    );
  } finally {
    await clustered.stop();
  }
  const single = new Broker();
  await single.start();
  try {
    const { queue } = single.getVhost('/')!.declareQueue(stream, owner);
    assert.equal(queue.appendOnly, true);
    assert.deepEqual(queue.streamFigures()?.nextOffset, 0);
  } finally {
    await single.stop();
  }
});
