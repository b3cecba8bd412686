import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
  StartMessageMoveTaskCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import amqp from 'amqplib';
import { startSqs, TEST_ACCOUNT, type TestSqs } from '../../helpers/sqs.js';
import { waitFor } from '../../helpers/wait.js';

describe('SQS door: FIFO, redrive, SigV4, AMQP on the same queues (@aws-sdk/client-sqs + amqplib)', () => {
  let t: TestSqs;
  let sqs: SQSClient;
  before(async () => {
    t = await startSqs();
    sqs = t.client();
  });
  after(() => t.close());

  it('FIFO: order within a group, one receiver per group at a time, deduplication, SequenceNumber', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'fifo.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }));
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: '1', MessageBody: 'a1', MessageGroupId: 'a' },
          { Id: '2', MessageBody: 'b1', MessageGroupId: 'b' },
          { Id: '3', MessageBody: 'a2', MessageGroupId: 'a' },
        ],
      }),
    );
    const dup = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'a1', MessageGroupId: 'a' }));
    assert.ok(dup.SequenceNumber && /^\d{20}$/.test(dup.SequenceNumber));
    await assert.rejects(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'no group' })), (e: Error) => e.name === 'MissingParameter');
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber'] }));
    assert.equal(first.Messages?.[0]?.Body, 'a1');
    assert.equal(first.Messages?.[0]?.Attributes?.MessageGroupId, 'a');
    // Group a is held by the first receive: the next receive gets group b only.
    const second = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(second.Messages?.map((m) => m.Body), ['b1']);
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages![0]!.ReceiptHandle }));
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    assert.deepEqual(third.Messages?.map((m) => m.Body), ['a2'], 'the duplicate a1 was dropped');
  });

  it('RedrivePolicy: after maxReceiveCount receives the message moves to the dead-letter queue', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dead' }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'work', Attributes: { VisibilityTimeout: '0' } }));
    await assert.rejects(
      sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:${TEST_ACCOUNT}:missing`, maxReceiveCount: 2 }) } })),
      (e: Error) => e.name === 'InvalidParameterValue',
    );
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
    for (let i = 1; i <= 2; i++) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10, VisibilityTimeout: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      assert.equal(got.Messages?.[0]?.Attributes?.ApproximateReceiveCount, String(i));
    }
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.QueueUrl, WaitTimeSeconds: 10, MessageSystemAttributeNames: ['DeadLetterQueueSourceArn'] }));
    assert.equal(dead.Messages?.[0]?.Body, 'poison');
    assert.equal(dead.Messages?.[0]?.Attributes?.DeadLetterQueueSourceArn, `arn:aws:sqs:us-east-1:${TEST_ACCOUNT}:work`);
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined);
    const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlq.QueueUrl }));
    assert.deepEqual(sources.queueUrls, [QueueUrl]);
  });

  it("message move task: a dead-letter queue's messages go back to their source queue", async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dead-2' }));
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'work-2', Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'retry me' }));
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 1 }))).Messages?.length, 1);
    await waitFor(() => t.broker.broker.getVhost('/')?.getQueue('dead-2')?.readyCount() === 1, 'dead-lettered');
    await assert.rejects(sqs.send(new StartMessageMoveTaskCommand({ SourceArn: `arn:aws:sqs:us-east-1:${TEST_ACCOUNT}:work-2` })), (e: Error) => e.name === 'InvalidParameterValue');
    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
    assert.ok(TaskHandle);
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
    assert.equal(back.Messages?.[0]?.Body, 'retry me');
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
    assert.equal(tasks.Results?.[0]?.Status, 'COMPLETED');
    assert.equal(tasks.Results?.[0]?.ApproximateNumberOfMessagesMoved, 1);
  });

  it('SigV4: unknown key, wrong secret, and keys issued to a user with only some permissions', async () => {
    await assert.rejects(t.client({ accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' }).send(new ListQueuesCommand({})), (e: Error & { Code?: string }) => e.name === 'InvalidClientTokenId');
    await assert.rejects(t.client({ accessKeyId: 'guest', secretAccessKey: 'wrong' }).send(new ListQueuesCommand({})), (e: Error) => e.name === 'SignatureDoesNotMatch');
    t.broker.users.addUser('reader', 'pw');
    t.broker.users.setPermissions('reader', '/', { configure: '^$', write: '^$', read: '.*' });
    const key = t.sqs.keys.issue('reader');
    const reader = t.client({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    assert.ok((await reader.send(new ListQueuesCommand({}))).QueueUrls?.length);
    await assert.rejects(reader.send(new CreateQueueCommand({ QueueName: 'not-mine' })), (e: Error) => e.name === 'AccessDenied');
  });

  it('SigV4: a request signed 10 minutes ago is RequestExpired', async () => {
    const stale = t.client();
    // The SDK signs with its own clock: move it back (systemClockOffset is the SDK's skew correction).
    (stale.config as unknown as { systemClockOffset: number }).systemClockOffset = -10 * 60 * 1000;
    await assert.rejects(stale.send(new ListQueuesCommand({})), (e: Error) => e.name === 'RequestExpired');
  });

  it('one queue, every door: SendMessage consumed over AMQP, an AMQP publish received over SQS, attributes as headers', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bridge' }));
    const connection = await amqp.connect(t.broker.url);
    try {
      const channel = await connection.createChannel();
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'from sqs', MessageAttributes: { kind: { DataType: 'String', StringValue: 'order' }, n: { DataType: 'Number', StringValue: '7' } } }));
      const got = await channel.get('bridge', { noAck: true });
      assert.ok(got);
      assert.equal(got.content.toString(), 'from sqs');
      assert.equal(got.properties.headers?.['kind'], 'order');
      assert.equal(got.properties.headers?.['n'], '7');
      assert.equal(got.properties.deliveryMode, 2);
      channel.sendToQueue('bridge', Buffer.from('from amqp'), { headers: { source: 'amqp', attempt: 3, raw: Buffer.from('xy') } });
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5, MessageAttributeNames: ['All'] }));
      const message = received.Messages?.[0];
      assert.equal(message?.Body, 'from amqp');
      assert.equal(message?.MessageAttributes?.['source']?.StringValue, 'amqp');
      assert.equal(message?.MessageAttributes?.['attempt']?.DataType, 'Number');
      assert.equal(message?.MessageAttributes?.['attempt']?.StringValue, '3');
      assert.equal(Buffer.from(message?.MessageAttributes?.['raw']?.BinaryValue ?? []).toString(), 'xy');
      // A queue declared over AMQP is an SQS queue too.
      await channel.assertQueue('amqp-made', { durable: true });
      const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'amqp-' }));
      assert.deepEqual(listed.QueueUrls, [`${t.endpoint}/${TEST_ACCOUNT}/amqp-made`]);
    } finally {
      await connection.close();
    }
  });
});
