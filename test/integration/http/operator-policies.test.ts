import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startManaged, type ManagedBroker } from './http-helpers.js';

// Operator policies cap what users' policies and x-arguments set (RabbitMQ: the lower value wins).

let b: ManagedBroker;
before(async () => {
  b = await startManaged();
});
after(() => b?.close());

async function depthAfterPublishing(queue: string, count: number, args: Record<string, unknown> = {}): Promise<number> {
  const connection = await amqp.connect(b.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: false, arguments: args });
  for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`${i}`));
  await channel.waitForConfirms();
  const { messageCount } = await channel.checkQueue(queue);
  await connection.close();
  return messageCount;
}

test('an operator policy caps queues with no policy, a looser policy and a looser x-argument; a stricter one stays', async () => {
  assert.equal((await b.api('PUT', '/api/operator-policies/%2F/cap', { pattern: '^capped\\.', definition: { 'max-length': 3 }, 'apply-to': 'queues' })).statusCode, 201);
  assert.equal(await depthAfterPublishing('capped.plain', 10), 3, 'no policy: the operator cap');
  assert.equal(await depthAfterPublishing('capped.arg', 10, { 'x-max-length': 5 }), 3, 'a looser argument: the cap');
  assert.equal(await depthAfterPublishing('capped.tight', 10, { 'x-max-length': 2 }), 2, 'a stricter argument stays');
  await b.api('PUT', '/api/policies/%2F/user', { pattern: '^capped\\.', definition: { 'max-length': 8, 'message-ttl': 60000 }, 'apply-to': 'queues' });
  assert.equal(await depthAfterPublishing('capped.policy', 10), 3, 'a looser user policy: the cap');
  assert.equal((await b.json('GET', '/api/queues/%2F/capped.policy')).policy, 'user', "the user's policy still names the queue's policy");

  // Lifting the cap lets the user policy's limit apply to queues that exist.
  assert.equal((await b.api('DELETE', '/api/operator-policies/%2F/cap')).statusCode, 204);
  assert.equal(await depthAfterPublishing('capped.policy', 10), 8);
  await b.api('DELETE', '/api/policies/%2F/user');
});
