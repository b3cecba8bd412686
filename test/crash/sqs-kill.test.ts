/**
 * kill -9 of a broker with the SQS door on: the CLI runs as a child on a temp data dir; the JS SDK
 * sends messages (one at a time, several in parallel) to a durable SQS queue until the child is killed
 * at a random moment. After a restart on the same data dir every SendMessage that was answered must be
 * receivable, and the queue's SQS attributes must have survived.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { cleanEnvironment, runCli, type CliProcess } from '../integration/cli/process.js';
import { waitFor } from '../helpers/wait.js';

const LISTENING = /SQS listening on (\S+):(\d+)/;

async function start(dataDir: string): Promise<{ cli: CliProcess; client: SQSClient; url: string }> {
  const cli = runCli(
    ['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--sqs-host', '127.0.0.1', '--sqs-port', '0', '--data-dir', dataDir],
    cleanEnvironment(),
  );
  const [, , port] = await cli.waitForOutput(LISTENING, 30_000);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'guest', secretAccessKey: 'guest' }, maxAttempts: 1 });
  return { cli, client, url: `${endpoint}/000000000000/durable-jobs` };
}

test('an answered SendMessage to a durable SQS queue survives kill -9', { timeout: 120_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-sqs-crash-'));
  let broker: Awaited<ReturnType<typeof start>> | undefined;
  try {
    broker = await start(dataDir);
    await broker.client.send(new CreateQueueCommand({ QueueName: 'durable-jobs', Attributes: { VisibilityTimeout: '7' } }));
    // A delayed message waits in the vhost's delay exchange, stored: it must survive too.
    await broker.client.send(new SendMessageCommand({ QueueUrl: broker.url, MessageBody: 'delayed', DelaySeconds: 2 }));
    const acknowledged = new Set<string>();
    let next = 0;
    let dead = false;
    const sender = async (client: SQSClient): Promise<void> => {
      while (!dead) {
        const body = `m${next++}`;
        try {
          await client.send(new SendMessageCommand({ QueueUrl: broker!.url, MessageBody: body }));
          acknowledged.add(body);
        } catch {
          return; // the broker died under this request
        }
      }
    };
    const senders = Array.from({ length: 4 }, () => sender(broker!.client));
    const { cli } = broker;
    // Killed at a random moment once sends are flowing (counted, not timed: CI machines may be loaded).
    await waitFor(() => acknowledged.size >= 30, '30 answered sends');
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
    cli.child.kill('SIGKILL');
    dead = true;
    await cli.exited;
    await Promise.all(senders);
    broker.client.destroy();

    broker = await start(dataDir);
    const attributes = await broker.client.send(new GetQueueAttributesCommand({ QueueUrl: broker.url, AttributeNames: ['VisibilityTimeout'] }));
    assert.equal(attributes.Attributes?.VisibilityTimeout, '7');
    const found = new Set<string>();
    for (;;) {
      const got = await broker.client.send(new ReceiveMessageCommand({ QueueUrl: broker.url, MaxNumberOfMessages: 10, WaitTimeSeconds: found.has('delayed') ? 1 : 3 }));
      if (got.Messages === undefined) break;
      for (const m of got.Messages) found.add(m.Body!);
      await broker.client.send(new DeleteMessageBatchCommand({ QueueUrl: broker.url, Entries: got.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
    assert.ok(found.has('delayed'), 'the delayed message survived the kill');
    const lost = [...acknowledged].filter((body) => !found.has(body));
    assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} acknowledged messages were lost`);
  } finally {
    broker?.client.destroy();
    broker?.cli.kill();
    if (broker !== undefined) await broker.cli.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
