import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, ListQueuesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import { waitFor } from '../../helpers/wait.js';

const AUTH = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };

interface ConnectionRow {
  name: string;
  protocol: string;
  peer_host: string;
  user: string;
  vhost: string;
  state: string;
  requests: number;
  last_seen: number;
  auth_mechanism: string;
  client_properties: Record<string, unknown>;
}

describe('SQS door in the management API (@aws-sdk/client-sqs against a whole Warren server)', () => {
  let dataDir: string;
  let server: WarrenServer;
  let sqsPort: number;
  let api: string;
  const clients: SQSClient[] = [];
  const sdk = (accessKeyId = 'guest', secretAccessKey = 'guest'): SQSClient => {
    const client = new SQSClient({ endpoint: `http://127.0.0.1:${sqsPort}`, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${api}${path}`, { headers: AUTH });
    assert.equal(response.status, 200, `${path}: ${response.status}`);
    return (await response.json()) as T;
  };
  const sqsRows = async (): Promise<ConnectionRow[]> => (await get<ConnectionRow[]>('/api/connections')).filter((c) => c.protocol === 'SQS');

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'warren-sqs-mgmt-'));
    const config = loadConfig({ env: {}, flags: { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'sqs-host': '127.0.0.1', 'sqs-port': '0', 'log-level': 'silent', 'data-dir': dataDir } });
    server = new WarrenServer(config, silentLogger());
    const addresses = await server.start();
    sqsPort = addresses.sqs!.port;
    api = `http://127.0.0.1:${addresses.http.port}`;
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('/api/connections: one row per access key and source address, with requests and last seen', async () => {
    const before = Date.now();
    const guest = sdk();
    await guest.send(new CreateQueueCommand({ QueueName: 'seen' }));
    for (let i = 0; i < 4; i++) await guest.send(new ListQueuesCommand({}));
    // A second SDK client with the same key from the same address is the same client identity.
    await sdk().send(new ListQueuesCommand({}));
    const issued = await fetch(`${api}/api/sqs/keys`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ user: 'guest' }) });
    assert.equal(issued.status, 201, await issued.clone().text());
    const key = (await issued.json()) as { access_key_id: string; secret_access_key: string };
    await sdk(key.access_key_id, key.secret_access_key).send(new ListQueuesCommand({}));
    // A request that fails authentication makes no row.
    await assert.rejects(sdk('AKNOBODY', 'x').send(new ListQueuesCommand({})), (e: Error) => e.name === 'InvalidClientTokenId');

    const rows = await sqsRows();
    assert.equal(rows.length, 2, JSON.stringify(rows));
    const guestRow = rows.find((r) => r.client_properties['access_key_id'] === 'guest')!;
    assert.equal(guestRow.requests, 6);
    assert.equal(guestRow.peer_host, '127.0.0.1');
    assert.equal(guestRow.user, 'guest');
    assert.equal(guestRow.vhost, '/');
    assert.equal(guestRow.auth_mechanism, 'AWS4-HMAC-SHA256');
    assert.match(String(guestRow.client_properties['user_agent']), /aws-sdk-js/);
    assert.ok(guestRow.last_seen >= before && guestRow.last_seen <= Date.now());
    assert.equal(rows.find((r) => r.client_properties['access_key_id'] === key.access_key_id)?.requests, 1);
    const one = await get<ConnectionRow>(`/api/connections/${encodeURIComponent(guestRow.name)}`);
    assert.equal(one.requests, 6);
  });

  it('a waiting ReceiveMessage is a consumer under its client row; closing the row ends it', async () => {
    const client = sdk();
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'waiting' }));
    const waiting = client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 })).then(() => 'answered', (error: unknown) => error);
    type ConsumerRow = { queue: { name: string }; channel_details: { connection_name?: string }; prefetch_count: number };
    let consumers: ConsumerRow[] = [];
    await waitFor(async () => {
      consumers = (await get<ConsumerRow[]>('/api/consumers')).filter((c) => c.queue.name === 'waiting');
      return consumers.length > 0;
    }, 'the waiting receive as a consumer');
    const row = (await sqsRows()).find((r) => r.client_properties['access_key_id'] === 'guest')!;
    assert.equal(consumers[0]!.channel_details.connection_name, row.name);
    assert.equal(row.state, 'running');
    const closed = await fetch(`${api}/api/connections/${encodeURIComponent(row.name)}`, { method: 'DELETE', headers: AUTH });
    assert.equal(closed.status, 204);
    assert.ok((await waiting) instanceof Error, 'the long poll ends with its socket');
    await waitFor(async () => !(await get<ConsumerRow[]>('/api/consumers')).some((c) => c.queue.name === 'waiting'), 'the consumer gone');
    // The client comes back: a fresh row.
    await client.send(new ListQueuesCommand({}));
    const again = (await sqsRows()).find((r) => r.client_properties['access_key_id'] === 'guest');
    assert.equal(again?.requests, 1);
  });
});
