import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AddPermissionCommand,
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  RemovePermissionCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqs, type TestSqs } from '../../helpers/sqs.js';

describe('SQS door: FIFO duplicates answered as the original, ReceiveRequestAttemptId replays (@aws-sdk/client-sqs)', () => {
  let t: TestSqs;
  let sqs: SQSClient;
  before(async () => {
    t = await startSqs();
    sqs = t.client();
  });
  after(() => t.close());

  it('a duplicate send inside the interval returns the original MessageId and SequenceNumber and is not delivered twice', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'dedup.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }));
    const original = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'once', MessageGroupId: 'g' }));
    assert.ok(original.MessageId !== undefined && original.SequenceNumber !== undefined);
    // Content-based: the same body again, alone and inside a batch.
    const again = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'once', MessageGroupId: 'g' }));
    assert.equal(again.MessageId, original.MessageId);
    assert.equal(again.SequenceNumber, original.SequenceNumber);
    const batch = await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'once', MessageGroupId: 'g' }, { Id: 'b', MessageBody: 'twice', MessageGroupId: 'g' }, { Id: 'c', MessageBody: 'twice', MessageGroupId: 'g' }] }));
    const byId = new Map(batch.Successful?.map((e) => [e.Id, e]));
    assert.equal(byId.get('a')?.MessageId, original.MessageId);
    assert.equal(byId.get('a')?.SequenceNumber, original.SequenceNumber);
    assert.notEqual(byId.get('b')?.MessageId, original.MessageId);
    assert.equal(byId.get('c')?.MessageId, byId.get('b')?.MessageId, 'a duplicate inside the same batch');
    // An explicit deduplication id wins over the body: another body under the same id is a duplicate too.
    const explicit = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'first body', MessageGroupId: 'g', MessageDeduplicationId: 'id-1' }));
    const sameId = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'other body', MessageGroupId: 'g', MessageDeduplicationId: 'id-1' }));
    assert.equal(sameId.MessageId, explicit.MessageId);
    const received: string[] = [];
    for (;;) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
      if (got.Messages === undefined) break;
      for (const m of got.Messages) {
        received.push(`${m.MessageId}:${m.Body}`);
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
      }
    }
    assert.deepEqual(received, [`${original.MessageId}:once`, `${byId.get('b')?.MessageId}:twice`, `${explicit.MessageId}:first body`]);
  });

  it('a retry with the same ReceiveRequestAttemptId returns the same messages and receipt handles', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'attempts.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', VisibilityTimeout: '60' } }));
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['m1', 'm2', 'm3'].map((body) => ({ Id: body, MessageBody: body, MessageGroupId: 'g' })) }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: 'attempt-1' }));
    assert.deepEqual(first.Messages?.map((m) => m.Body), ['m1', 'm2']);
    const retry = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: 'attempt-1' }));
    assert.deepEqual(retry.Messages?.map((m) => [m.MessageId, m.ReceiptHandle]), first.Messages?.map((m) => [m.MessageId, m.ReceiptHandle]));
    // Another attempt id is a new receive: the group is held by the first, so nothing comes.
    const other = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: 'attempt-2' }));
    assert.equal(other.Messages, undefined);
    // Once one of them was modified the retry is no longer a replay: it receives anew.
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.Messages![1]!.ReceiptHandle, VisibilityTimeout: 0 }));
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.Messages![0]!.ReceiptHandle }));
    const fresh = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2, ReceiveRequestAttemptId: 'attempt-1' }));
    assert.deepEqual(fresh.Messages?.map((m) => m.Body), ['m2', 'm3']);
    assert.notEqual(fresh.Messages?.[0]?.ReceiptHandle, first.Messages?.[1]?.ReceiptHandle);
  });

  it('a replay starts the visibility timeout again', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'replay-visibility.fifo', Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'v', MessageGroupId: 'g' }));
    const first = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 2, ReceiveRequestAttemptId: 'r' }));
    assert.equal(first.Messages?.length, 1);
    await new Promise((r) => setTimeout(r, 1200));
    const retry = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 2, ReceiveRequestAttemptId: 'r' }));
    assert.equal(retry.Messages?.[0]?.ReceiptHandle, first.Messages?.[0]?.ReceiptHandle);
    // 2.0 s after the first receive the message would be visible again without the reset.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await sqs.send(new ReceiveMessageCommand({ QueueUrl }))).Messages, undefined, 'still invisible: the retry restarted its 2 s');
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
    assert.equal(back.Messages?.[0]?.Body, 'v');
  });
});

describe('SQS door: AddPermission / RemovePermission keep the queue Policy (@aws-sdk/client-sqs)', () => {
  let t: TestSqs;
  let sqs: SQSClient;
  before(async () => {
    t = await startSqs();
    sqs = t.client();
  });
  after(() => t.close());

  it('statements by label in the Policy attribute, AWS errors for a used or unknown label and bad input', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'shared' }));
    await sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'one', AWSAccountIds: ['111122223333'], Actions: ['SendMessage'] }));
    await sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'two', AWSAccountIds: ['111122223333', '444455556666'], Actions: ['*'] }));
    const policy = async (): Promise<{ Id: string; Statement: Array<{ Sid: string; Principal: { AWS: unknown }; Action: unknown; Resource: string }> } | undefined> => {
      const text = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy'] }))).Attributes?.['Policy'];
      return text === undefined ? undefined : JSON.parse(text);
    };
    const doc = await policy();
    assert.deepEqual(doc?.Statement.map((s) => s.Sid), ['one', 'two']);
    assert.equal(doc?.Statement[0]?.Principal.AWS, 'arn:aws:iam::111122223333:root');
    assert.equal(doc?.Statement[0]?.Action, 'SQS:SendMessage');
    assert.deepEqual(doc?.Statement[1]?.Principal.AWS, ['arn:aws:iam::111122223333:root', 'arn:aws:iam::444455556666:root']);
    assert.equal(doc?.Statement[1]?.Resource, `arn:aws:sqs:us-east-1:000000000000:shared`);
    await assert.rejects(sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'one', AWSAccountIds: ['111122223333'], Actions: ['SendMessage'] })), (e: Error) => e.name === 'InvalidParameterValue');
    await assert.rejects(sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'bad', AWSAccountIds: ['12'], Actions: ['SendMessage'] })), (e: Error) => e.name === 'InvalidParameterValue');
    await assert.rejects(sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'bad', AWSAccountIds: ['111122223333'], Actions: ['CreateQueue'] })), (e: Error) => e.name === 'InvalidParameterValue');
    await assert.rejects(sqs.send(new AddPermissionCommand({ QueueUrl, Label: 'bad', AWSAccountIds: [], Actions: ['SendMessage'] })), (e: Error) => e.name === 'MissingParameter');
    await sqs.send(new RemovePermissionCommand({ QueueUrl, Label: 'one' }));
    assert.deepEqual((await policy())?.Statement.map((s) => s.Sid), ['two']);
    await assert.rejects(sqs.send(new RemovePermissionCommand({ QueueUrl, Label: 'one' })), (e: Error) => e.name === 'InvalidParameterValue');
    await sqs.send(new RemovePermissionCommand({ QueueUrl, Label: 'two' }));
    assert.equal(await policy(), undefined);
  });
});
