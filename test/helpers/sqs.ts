import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsListener, type SqsListenerOptions } from '../../src/sqs/server.js';
import { startBroker, type StartBrokerOptions, type TestBroker } from './broker.js';

export const TEST_ACCOUNT = '000000000000';

export interface TestSqs {
  broker: TestBroker;
  sqs: SqsListener;
  endpoint: string;
  port: number;
  dataDir: string;
  /** An SDK client signed with guest/guest (or the given key). */
  client(credentials?: { accessKeyId: string; secretAccessKey: string }): SQSClient;
  close(): Promise<void>;
}

/** A broker with an AMQP listener and an SQS door on ephemeral ports of 127.0.0.1, with a temp data dir. */
export async function startSqs(options: { broker?: StartBrokerOptions; sqs?: Partial<SqsListenerOptions> } = {}): Promise<TestSqs> {
  const dataDir = await mkdtemp(join(tmpdir(), 'warren-sqs-'));
  const broker = await startBroker(options.broker);
  const sqs = new SqsListener(broker.broker, broker.users, {
    host: '127.0.0.1',
    port: 0,
    region: 'us-east-1',
    accounts: new Map([[TEST_ACCOUNT, '/']]),
    dataDir,
    ...options.sqs,
  });
  let port: number;
  try {
    ({ port } = await sqs.listen());
  } catch (error) {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: SQSClient[] = [];
  let closing: Promise<void> | undefined;
  return {
    broker,
    sqs,
    endpoint,
    port,
    dataDir,
    client(credentials = { accessKeyId: 'guest', secretAccessKey: 'guest' }) {
      const client = new SQSClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    close() {
      closing ??= (async () => {
        for (const client of clients) client.destroy();
        await sqs.close('test done');
        await broker.close();
        await rm(dataDir, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

/** For a describe block: a door started before its tests and closed after them, and a guest SDK client. */
export function sqsPerSuite(options: Parameters<typeof startSqs>[0] = {}): { readonly t: TestSqs; readonly sqs: SQSClient } {
  let started: { t: TestSqs; sqs: SQSClient } | undefined;
  before(async () => {
    const t = await startSqs(options);
    started = { t, sqs: t.client() };
  });
  after(() => started?.t.close());
  return {
    get t() {
      return started!.t;
    },
    get sqs() {
      return started!.sqs;
    },
  };
}
