import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CreateQueueCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import { runCtlOk } from '../cli/process.js';

function sdk(port: number, accessKeyId: string, secretAccessKey: string): SQSClient {
  return new SQSClient({ endpoint: `http://127.0.0.1:${port}`, region: 'eu-west-3', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

test('SQS keys from the config file, warren ctl sqs-keys and the management API; secrets kept in the data dir; vhost -> account', { timeout: 60_000 }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-sqs-keys-'));
  const file = join(dataDir, 'warren.yaml');
  await writeFile(
    file,
    [
      'vhosts: [{ name: "/" }, { name: team }]',
      'users: [{ name: guest, password: guest, tags: [administrator] }, { name: app, password: x }]',
      'permissions:',
      '  - { user: guest, vhost: "/", configure: ".*", write: ".*", read: ".*" }',
      '  - { user: app, vhost: team, configure: ".*", write: ".*", read: ".*" }',
      'sqs:',
      '  region: eu-west-3',
      '  accounts: [{ account: "000000000000", vhost: "/" }, { account: "111122223333", vhost: team }]',
      '  accessKeys: [{ accessKeyId: AKAPPFROMCONFIG, secretAccessKey: s3cret, user: app, vhost: team }]',
    ].join('\n'),
  );
  const config = () =>
    loadConfig({ env: {}, file, flags: { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'sqs-host': '127.0.0.1', 'sqs-port': '0', 'log-level': 'silent', 'data-dir': dataDir } });
  let server = new WarrenServer(config(), silentLogger());
  const clients: SQSClient[] = [];
  try {
    let addresses = await server.start();
    const app = sdk(addresses.sqs!.port, 'AKAPPFROMCONFIG', 's3cret');
    clients.push(app);
    const created = await app.send(new CreateQueueCommand({ QueueName: 'team-q' }));
    assert.equal(created.QueueUrl, `http://127.0.0.1:${addresses.sqs!.port}/111122223333/team-q`, 'the key\'s vhost is its account');
    assert.ok(server.broker.getVhost('team')?.getQueue('team-q'));

    const api = `http://127.0.0.1:${addresses.http.port}`;
    const issued = await runCtlOk(api, 'sqs-keys', 'add', 'guest', '--json');
    const key = JSON.parse(issued) as { access_key_id: string; secret_access_key: string };
    assert.ok(key.secret_access_key.length >= 40);
    const listed = JSON.parse(await runCtlOk(api, 'sqs-keys', 'list', '--json')) as Array<{ access_key_id: string; secret_access_key?: string }>;
    assert.ok(listed.some((k) => k.access_key_id === key.access_key_id));
    assert.ok(listed.every((k) => k.secret_access_key === undefined), 'listings never show secrets');

    // Restart on the same data dir: the issued key (its secret in the data dir) still signs.
    await server.stop();
    server = new WarrenServer(config(), silentLogger());
    addresses = await server.start();
    const guestKey = sdk(addresses.sqs!.port, key.access_key_id, key.secret_access_key);
    clients.push(guestKey);
    assert.deepEqual((await guestKey.send(new ListQueuesCommand({}))).QueueUrls, undefined, "vhost '/' has no queues");
    const response = await fetch(`http://127.0.0.1:${addresses.http.port}/api/sqs/keys/${key.access_key_id}`, { method: 'DELETE', headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } });
    assert.equal(response.status, 204);
    await assert.rejects(guestKey.send(new ListQueuesCommand({})), (e: Error) => e.name === 'InvalidClientTokenId');
  } finally {
    for (const c of clients) c.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
});
