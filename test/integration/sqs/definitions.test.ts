import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ListQueueTagsCommand,
  SendMessageBatchCommand,
  SetQueueAttributesCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';

const AUTH = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

interface Running {
  server: WarrenServer;
  sqs: SQSClient;
  api: string;
  stop(): Promise<void>;
}

async function start(dataDir: string): Promise<Running> {
  const config = loadConfig({ env: {}, flags: { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'sqs-host': '127.0.0.1', 'sqs-port': '0', 'log-level': 'silent', 'data-dir': dataDir } });
  const server = new WarrenServer(config, silentLogger());
  const addresses = await server.start();
  const sqs = new SQSClient({ endpoint: `http://127.0.0.1:${addresses.sqs!.port}`, region: 'us-east-1', credentials: { accessKeyId: 'guest', secretAccessKey: 'guest' }, maxAttempts: 1 });
  return {
    server,
    sqs,
    api: `http://127.0.0.1:${addresses.http.port}`,
    stop: async () => {
      sqs.destroy();
      await server.stop();
    },
  };
}

describe('SQS queue attributes as Warren definitions; move tasks across a restart (@aws-sdk/client-sqs, whole servers)', () => {
  const dirs: string[] = [];
  const running: Running[] = [];
  const dataDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'warren-sqs-defs-'));
    dirs.push(dir);
    return dir;
  };
  const up = async (dir: string): Promise<Running> => {
    const r = await start(dir);
    running.push(r);
    return r;
  };
  const down = async (r: Running): Promise<void> => {
    running.splice(running.indexOf(r), 1);
    await r.stop();
  };
  after(async () => {
    for (const r of running) await r.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('a definitions export carries the SQS attributes and tags; importing it elsewhere gives the same queue', async () => {
    const a = await up(await dataDir());
    const { QueueUrl } = await a.sqs.send(new CreateQueueCommand({ QueueName: 'carried', Attributes: { VisibilityTimeout: '45', DelaySeconds: '3' }, tags: { team: 'blue' } }));
    await a.sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { ReceiveMessageWaitTimeSeconds: '7' } }));
    const exported = (await (await fetch(`${a.api}/api/definitions`, { headers: AUTH })).json()) as { parameters: Array<{ component: string; name: string; value: { attributes: Record<string, string>; tags: Record<string, string> } }> };
    const parameter = exported.parameters.find((p) => p.component === 'sqs-queue' && p.name === 'carried');
    assert.equal(parameter?.value.attributes['VisibilityTimeout'], '45');
    assert.equal(parameter?.value.attributes['ReceiveMessageWaitTimeSeconds'], '7');
    assert.deepEqual(parameter?.value.tags, { team: 'blue' });

    const b = await up(await dataDir());
    const imported = await fetch(`${b.api}/api/definitions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(exported) });
    assert.equal(imported.status < 300, true, await imported.text());
    const url = (await b.sqs.send(new GetQueueUrlCommand({ QueueName: 'carried' }))).QueueUrl;
    const attributes = (await b.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
    assert.equal(attributes['VisibilityTimeout'], '45');
    assert.equal(attributes['DelaySeconds'], '3');
    assert.equal(attributes['ReceiveMessageWaitTimeSeconds'], '7');
    assert.deepEqual((await b.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { team: 'blue' });

    // A bad record through the parameters API is refused with the door's own validation.
    const bad = await fetch(`${b.api}/api/parameters/sqs-queue/%2F/carried`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ value: { attributes: { VisibilityTimeout: '99999' }, tags: {}, created: 1, modified: 1 } }) });
    assert.equal(bad.status, 400, await bad.text());
  });

  it("an older version's queues.json is migrated on start and then lives in the definitions", async () => {
    const dir = await dataDir();
    let r = await up(dir);
    const declared = await fetch(`${r.api}/api/queues/%2F/legacy`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ durable: true }) });
    assert.equal(declared.status < 300, true);
    await down(r);
    const file = join(dir, 'sqs', 'queues.json');
    await mkdir(join(dir, 'sqs'), { recursive: true });
    await writeFile(file, JSON.stringify({ version: 1, queues: [{ vhost: '/', name: 'legacy', attributes: { VisibilityTimeout: '77', DelaySeconds: '0', MaximumMessageSize: '1048576', MessageRetentionPeriod: '345600', ReceiveMessageWaitTimeSeconds: '0' }, tags: { from: 'file' }, created: 1700000000, modified: 1700000000 }] }));
    r = await up(dir);
    const url = (await r.sqs.send(new GetQueueUrlCommand({ QueueName: 'legacy' }))).QueueUrl;
    const check = async (s: SQSClient): Promise<void> => {
      const attributes = (await s.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['VisibilityTimeout', 'CreatedTimestamp'] }))).Attributes!;
      assert.equal(attributes['VisibilityTimeout'], '77');
      assert.equal(attributes['CreatedTimestamp'], '1700000000');
      assert.deepEqual((await s.send(new ListQueueTagsCommand({ QueueUrl: url }))).Tags, { from: 'file' });
    };
    await check(r.sqs);
    await assert.rejects(access(file), 'the old file is gone');
    await access(`${file}.migrated`);
    await down(r);
    r = await up(dir);
    await check(r.sqs); // from the definition journal now
  });

  it('a move task running when the broker stops is listed FAILED after the restart; a new one may start', async () => {
    const dir = await dataDir();
    let r = await up(dir);
    const dlq = await r.sqs.send(new CreateQueueCommand({ QueueName: 'dlq' }));
    const dlqArn = (await r.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    await r.sqs.send(new CreateQueueCommand({ QueueName: 'src', Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) } }));
    const target = await r.sqs.send(new CreateQueueCommand({ QueueName: 'target' }));
    const targetArn = (await r.sqs.send(new GetQueueAttributesCommand({ QueueUrl: target.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!['QueueArn']!;
    for (let i = 0; i < 5; i++) await r.sqs.send(new SendMessageBatchCommand({ QueueUrl: dlq.QueueUrl, Entries: Array.from({ length: 10 }, (_, j) => ({ Id: `m${j}`, MessageBody: `${i}-${j}` })) }));
    const { TaskHandle } = await r.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: targetArn, MaxNumberOfMessagesPerSecond: 1 }));
    assert.ok(TaskHandle);
    await down(r);
    r = await up(dir);
    const listed = (await r.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }))).Results!;
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.Status, 'FAILED');
    assert.match(listed[0]!.FailureReason ?? '', /restarted/);
    assert.equal(listed[0]!.DestinationArn, targetArn);
    assert.equal(listed[0]!.ApproximateNumberOfMessagesToMove, 50);
    const again = await r.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn, DestinationArn: targetArn }));
    assert.ok(again.TaskHandle);
    assert.equal((await r.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }))).Results?.length, 2);
  });
});
