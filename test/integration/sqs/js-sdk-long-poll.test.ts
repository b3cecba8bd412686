import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import { sqsPerSuite } from '../../helpers/sqs.js';

/**
 * Waiting receives: a batch send fills one waiting ReceiveMessage up to its MaxNumberOfMessages
 * instead of going out one message per waiter, and the other waiters still get what comes next; a
 * client that goes away stops waiting at once.
 */
describe('SQS long polls (@aws-sdk/client-sqs)', () => {
  const door = sqsPerSuite();

  async function waitingReceives(name: string, count: number): Promise<{ QueueUrl: string; answers: Promise<Message[]>[] }> {
    const { QueueUrl } = await door.sqs.send(new CreateQueueCommand({ QueueName: name }));
    const answers = Array.from({ length: count }, () =>
      door.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 })).then((r) => r.Messages ?? []),
    );
    const queue = door.t.broker.broker.getVhost('/')!.getQueue(name)!;
    await until(() => queue.consumerCount() >= count, `${count} receives waiting`);
    return { QueueUrl: QueueUrl!, answers };
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    for (let i = 0; !condition(); i++) {
      assert.ok(i < 500, `not within 5 s: ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const batch = (QueueUrl: string, prefix: string, n: number): SendMessageBatchCommand =>
    new SendMessageBatchCommand({ QueueUrl, Entries: Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: `${prefix}-${i}` })) });

  it('a SendMessageBatch of 10 reaches one waiting receive with MaxNumberOfMessages 10, whole and in order', async () => {
    const { QueueUrl, answers } = await waitingReceives('batch-fills-one', 3);
    await door.sqs.send(batch(QueueUrl, 'first', 10));
    const first = await Promise.race(answers);
    assert.deepEqual(first.map((m) => m.Body), Array.from({ length: 10 }, (_, i) => `first-${i}`));
    // The two others are still waiting: the next batch goes to one of them, then the last one gets the third.
    await door.sqs.send(batch(QueueUrl, 'second', 10));
    await door.sqs.send(batch(QueueUrl, 'third', 4));
    const all = await Promise.all(answers);
    const sizes = all.map((messages) => messages.length).sort((a, b) => a - b);
    assert.deepEqual(sizes, [4, 10, 10], 'every waiter got messages, each a whole batch');
    const bodies = all.flat().map((m) => m.Body!).sort();
    assert.equal(new Set(bodies).size, 24, 'no message twice');
  });

  it('more messages than one receive takes: the rest go to the other waiters', async () => {
    const { QueueUrl, answers } = await waitingReceives('batch-overflows', 2);
    // Two batches sent together are 20 messages for two waiters of 10 each.
    await Promise.all([door.sqs.send(batch(QueueUrl, 'a', 10)), door.sqs.send(batch(QueueUrl, 'b', 10))]);
    const all = await Promise.all(answers);
    assert.deepEqual(all.map((messages) => messages.length), [10, 10]);
    assert.equal(new Set(all.flat().map((m) => m.Body)).size, 20);
  });

  it('a client that goes away during a long poll leaves the queue at once; the next message goes to a live receive', async () => {
    const { QueueUrl, answers } = await waitingReceives('client-gone', 0);
    const queue = door.t.broker.broker.getVhost('/')!.getQueue('client-gone')!;
    const abort = new AbortController();
    const abandoned = door.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 20 }), { abortSignal: abort.signal }).then(() => 'answered', () => 'aborted');
    await until(() => queue.consumerCount() === 1, 'the receive waiting');
    const abortedAt = Date.now();
    abort.abort();
    assert.equal(await abandoned, 'aborted');
    await until(() => queue.consumerCount() === 0, 'the abandoned receive leaving the queue');
    assert.ok(Date.now() - abortedAt < 2000, 'it did not wait out its 20 s');
    assert.deepEqual(answers, []);
    const live = door.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }));
    await until(() => queue.consumerCount() === 1, 'a live receive waiting');
    await door.sqs.send(batch(QueueUrl, 'after', 3));
    assert.deepEqual((await live).Messages?.map((m) => m.Body), ['after-0', 'after-1', 'after-2']);
  });
});
