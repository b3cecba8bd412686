import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { startSqs, type TestSqs } from '../../helpers/sqs.js';
import { waitFor } from '../../helpers/wait.js';

describe('SQS door with sqs-consumer', () => {
  let t: TestSqs;
  let sqs: SQSClient;
  before(async () => {
    t = await startSqs();
    sqs = t.client();
  });
  after(() => t.close());

  it('consumes with long polling, deletes handled messages, and a failed message comes back', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'consumed', Attributes: { VisibilityTimeout: '1' } }));
    const seen: string[] = [];
    let failedOnce = false;
    const consumer = Consumer.create({
      queueUrl: QueueUrl!,
      sqs,
      batchSize: 10,
      waitTimeSeconds: 1,
      handleMessage: async (message) => {
        if (message.Body === 'fail-once' && !failedOnce) {
          failedOnce = true;
          throw new Error('handler failed');
        }
        seen.push(message.Body!);
        return message;
      },
    });
    consumer.on('error', () => undefined);
    consumer.on('processing_error', () => undefined);
    consumer.start();
    try {
      await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['a', 'b', 'fail-once', 'c'].map((body, i) => ({ Id: String(i), MessageBody: body })) }));
      await waitFor(() => seen.length === 4, 'all four messages handled');
      assert.deepEqual([...seen].sort(), ['a', 'b', 'c', 'fail-once']);
      assert.ok(failedOnce);
      await waitFor(async () => {
        const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
        return a.Attributes?.ApproximateNumberOfMessages === '0' && a.Attributes?.ApproximateNumberOfMessagesNotVisible === '0';
      }, 'every message deleted');
    } finally {
      consumer.stop({ abort: true });
    }
  });
});
