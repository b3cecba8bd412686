import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  TagQueueCommand,
  ListQueueTagsCommand,
  UntagQueueCommand,
  TooManyEntriesInBatchRequest,
  BatchEntryIdsNotDistinct,
  PurgeQueueInProgress,
  InvalidAttributeName,
  MessageNotInflight,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs, TEST_ACCOUNT, type TestSqs } from '../../helpers/sqs.js';

describe('SQS door with @aws-sdk/client-sqs (JSON protocol)', () => {
  let t: TestSqs;
  let sqs: SQSClient;
  before(async () => {
    t = await startSqs();
    sqs = t.client();
  });
  after(() => t.close());

  it('creates, finds, lists and deletes queues with URLs on the request host and port', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }));
    assert.equal(QueueUrl, `${t.endpoint}/${TEST_ACCOUNT}/orders`);
    assert.ok(t.broker.broker.getVhost('/')?.getQueue('orders')?.durable, 'an SQS queue is a durable Warren queue');
    assert.equal((await sqs.send(new GetQueueUrlCommand({ QueueName: 'orders' }))).QueueUrl, QueueUrl);
    // Same attributes: the same queue; different ones: QueueNameExists.
    assert.equal((await sqs.send(new CreateQueueCommand({ QueueName: 'orders' }))).QueueUrl, QueueUrl);
    await assert.rejects(sqs.send(new CreateQueueCommand({ QueueName: 'orders', Attributes: { VisibilityTimeout: '5' } })), QueueNameExists);
    await sqs.send(new CreateQueueCommand({ QueueName: 'orders-2' }));
    await sqs.send(new CreateQueueCommand({ QueueName: 'other' }));
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'orders' }));
    assert.deepEqual(listed.QueueUrls, [QueueUrl, `${t.endpoint}/${TEST_ACCOUNT}/orders-2`]);
    const page1 = await sqs.send(new ListQueuesCommand({ MaxResults: 2 }));
    assert.equal(page1.QueueUrls?.length, 2);
    assert.ok(page1.NextToken);
    const page2 = await sqs.send(new ListQueuesCommand({ MaxResults: 2, NextToken: page1.NextToken }));
    assert.deepEqual(page2.QueueUrls, [`${t.endpoint}/${TEST_ACCOUNT}/other`]);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: `${t.endpoint}/${TEST_ACCOUNT}/other` }));
    await assert.rejects(sqs.send(new GetQueueUrlCommand({ QueueName: 'other' })), QueueDoesNotExist);
  });

  it('sends, receives and deletes with MD5s the SDK verifies, and message attributes of every type', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'jobs' }));
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'hello\r\nwörld',
        MessageAttributes: {
          color: { DataType: 'String', StringValue: 'blue' },
          count: { DataType: 'Number', StringValue: '42' },
          price: { DataType: 'Number.float', StringValue: '1.50' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]) },
        },
      }),
    );
    assert.ok(sent.MessageId);
    assert.ok(sent.MD5OfMessageAttributes);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    assert.equal(received.Messages?.length, 1);
    const message = received.Messages[0]!;
    assert.equal(message.Body, 'hello\r\nwörld');
    assert.equal(message.MessageId, sent.MessageId);
    assert.equal(message.MD5OfMessageAttributes, sent.MD5OfMessageAttributes);
    assert.equal(message.MessageAttributes?.['price']?.StringValue, '1.50');
    assert.equal(message.MessageAttributes?.['price']?.DataType, 'Number.float');
    assert.deepEqual(Buffer.from(message.MessageAttributes?.['blob']?.BinaryValue ?? []), Buffer.from([0, 1, 2, 255]));
    assert.equal(message.Attributes?.ApproximateReceiveCount, '1');
    assert.ok(Number(message.Attributes?.SentTimestamp) > Date.now() - 60_000);
    // Invisible while in flight.
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    const counts = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    assert.deepEqual(counts.Attributes, { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    // Deleting again with the same genuine handle succeeds (AWS's rule); a forged one does not.
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
    await assert.rejects(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'forged' })), ReceiptHandleIsInvalid);
    await assert.rejects(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 5 })), MessageNotInflight);
    assert.equal(t.broker.broker.getVhost('/')?.getQueue('jobs')?.unackedCount(), 0);
  });

  it('batches: partial failures, too many entries, repeated ids', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'batches' }));
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'a', MessageBody: 'one' },
          { Id: 'b', MessageBody: 'two', DelaySeconds: 901 },
          { Id: 'c', MessageBody: 'three' },
        ],
      }),
    );
    assert.deepEqual(sent.Successful?.map((e) => e.Id), ['a', 'c']);
    assert.equal(sent.Failed?.[0]?.Id, 'b');
    assert.equal(sent.Failed?.[0]?.Code, 'InvalidParameterValue');
    assert.equal(sent.Failed?.[0]?.SenderFault, true);
    const entries = Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));
    await assert.rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries })), TooManyEntriesInBatchRequest);
    await assert.rejects(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'x', MessageBody: '1' }, { Id: 'x', MessageBody: '2' }] })), BatchEntryIdsNotDistinct);
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(received.Messages?.map((m) => m.Body), ['one', 'three']);
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [...received.Messages!.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle })), { Id: 'bad', ReceiptHandle: 'nope' }],
      }),
    );
    assert.deepEqual(deleted.Successful?.map((e) => e.Id), ['d0', 'd1']);
    assert.equal(deleted.Failed?.[0]?.Code, 'ReceiptHandleIsInvalid');
  });

  it('visibility: a message not deleted comes back, ChangeMessageVisibility 0 releases it at once', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'visible' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 1, MessageSystemAttributeNames: ['ApproximateFirstReceiveTimestamp'] }));
    assert.equal(first.Messages?.length, 1);
    const firstReceived = first.Messages![0]!.Attributes?.ApproximateFirstReceiveTimestamp;
    assert.ok(Math.abs(Number(firstReceived) - Date.now()) < 5000, `first receive time ${firstReceived}`);
    const started = Date.now();
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp'] }));
    assert.equal(second.Messages?.[0]?.Body, 'again');
    assert.ok(Date.now() - started >= 700, 'came back after its visibility timeout');
    assert.equal(second.Messages?.[0]?.Attributes?.ApproximateReceiveCount, '2');
    assert.equal(second.Messages?.[0]?.Attributes?.ApproximateFirstReceiveTimestamp, firstReceived, 'still the first receive\'s time');
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
    await new Promise((r) => setTimeout(r, 200));
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: second.Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }));
    const third = await waiting;
    assert.equal(third.Messages?.[0]?.Body, 'again', 'a waiting receive wakes when visibility is set to 0');
  });

  it('attributes: get, set with validation, purge once a minute, tags', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'attrs', Attributes: { DelaySeconds: '0', VisibilityTimeout: '45' }, tags: { team: 'a' } }));
    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    assert.equal(all.Attributes?.VisibilityTimeout, '45');
    assert.equal(all.Attributes?.MaximumMessageSize, '1048576');
    assert.equal(all.Attributes?.QueueArn, `arn:aws:sqs:us-east-1:${TEST_ACCOUNT}:attrs`);
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '60', MessageRetentionPeriod: '120' } }));
    const changed = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout', 'MessageRetentionPeriod'] }));
    assert.deepEqual(changed.Attributes, { VisibilityTimeout: '60', MessageRetentionPeriod: '120' });
    await assert.rejects(sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { VisibilityTimeout: '43201' } })), (e: Error) => e.name === 'InvalidAttributeValue');
    await assert.rejects(sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Bogus: '1' } as Record<string, string> })), InvalidAttributeName);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'gone' }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl }));
    await assert.rejects(sqs.send(new PurgeQueueCommand({ QueueUrl })), PurgeQueueInProgress);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    await sqs.send(new TagQueueCommand({ QueueUrl, Tags: { env: 'test' } }));
    await sqs.send(new UntagQueueCommand({ QueueUrl, TagKeys: ['team'] }));
    assert.deepEqual((await sqs.send(new ListQueueTagsCommand({ QueueUrl }))).Tags, { env: 'test' });
  });

  it('long polling waits at least its time when nothing comes, and returns when a message arrives', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'long-poll' }));
    const started = Date.now();
    const empty = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    assert.equal(empty.Messages, undefined);
    assert.ok(Date.now() - started >= 950);
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((r) => setTimeout(r, 100));
    const sentAt = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    const got = await waiting;
    assert.equal(got.Messages?.[0]?.Body, 'wake up');
    assert.ok(Date.now() - sentAt < 5000, 'returned on arrival, not at the end of the wait');
    // A delay come due wakes a waiting receive too.
    const delayed = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    const delayedAt = Date.now();
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'later', DelaySeconds: 1 }));
    const later = await delayed;
    assert.equal(later.Messages?.[0]?.Body, 'later');
    assert.ok(Date.now() - delayedAt >= 950, 'not before its delay');
  });
});
