import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startSqs } from '../../helpers/sqs.js';

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSigned(dir: string): { cert: Buffer; key: Buffer } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) };
}

test('the SQS door over HTTPS: queue URLs say https, the JS SDK sends and receives', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-sqs-tls-'));
  const tls = selfSigned(dir);
  const t = await startSqs({ sqs: { tls } });
  const sqs = new SQSClient({
    endpoint: `https://127.0.0.1:${t.port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'guest', secretAccessKey: 'guest' },
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: tls.cert }) }),
  });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'secure' }));
    assert.equal(QueueUrl, `https://127.0.0.1:${t.port}/000000000000/secure`);
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'over tls' }));
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 2 }));
    assert.equal(got.Messages?.[0]?.Body, 'over tls');
    assert.equal(t.sqs.protocol, 'https/sqs');
  } finally {
    sqs.destroy();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
