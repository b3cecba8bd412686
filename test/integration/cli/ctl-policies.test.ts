import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { runCli, runCtl, runCtlOk, type CliProcess, type CtlResult } from './process.js';

const HTTP_LISTENING = /HTTP listening on (\S+):(\d+)/;
const AMQP_LISTENING = /AMQP listening on (\S+):(\d+)/;

let dir: string;
let server: CliProcess | undefined;
let url: string;
let amqpUrl: string;

/** Starts `warren server` on ephemeral ports over the test's data dir (the same dir on every restart). */
async function startServer(): Promise<void> {
  server = runCli(['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', join(dir, 'data')]);
  const [, , amqpPort] = await server.waitForOutput(AMQP_LISTENING);
  const [, host, port] = await server.waitForOutput(HTTP_LISTENING);
  url = `http://${host}:${port}`;
  amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
}

/** A clean shutdown (SIGTERM), so the store is closed as an operator's restart would. */
async function stopServer(): Promise<void> {
  if (server === undefined) return;
  server.child.kill('SIGTERM');
  await server.exited;
  server.kill();
  server = undefined;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-ctl-policies-'));
  await startServer();
});

after(async () => {
  await stopServer();
  await rm(dir, { recursive: true, force: true });
});

const ctl = (...args: string[]): Promise<CtlResult> => runCtl(url, ...args);
const ok = (...args: string[]): Promise<string> => runCtlOk(url, ...args);

interface PolicyRow {
  vhost: string;
  name: string;
  pattern: string;
  'apply-to': string;
  priority: number;
  definition: Record<string, unknown>;
}

test('set-policy, list policies (table and JSON), the policy limits a queue over AMQP, clear-policy', async () => {
  assert.match(await ok('set-policy', 'cap', '^capped\\.', '{"max-length": 2}', '--apply-to', 'queues', '--priority', '5'), /set policy 'cap' on vhost '\/'/);

  const table = await ok('list', 'policies');
  assert.match(table.split('\n')[0]!, /^vhost\s+name\s+pattern\s+apply-to\s+priority\s+definition$/);
  assert.match(table, /^\/\s+cap\s+\^capped\\\.\s+queues\s+5\s+\{"max-length":2\}$/m);
  const rows = JSON.parse(await ok('list', 'policies', '--json', '--vhost', '/')) as PolicyRow[];
  assert.deepEqual(rows, [{ vhost: '/', name: 'cap', pattern: '^capped\\.', 'apply-to': 'queues', priority: 5, definition: { 'max-length': 2 } }]);

  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue('capped.jobs', { durable: false });
    for (let i = 0; i < 5; i++) channel.sendToQueue('capped.jobs', Buffer.from(`job ${i}`));
    assert.equal((await channel.checkQueue('capped.jobs')).messageCount, 2, 'max-length 2 from the policy');
    await channel.deleteQueue('capped.jobs');
  } finally {
    await connection.close();
  }

  assert.match(await ok('clear-policy', 'cap'), /cleared policy 'cap'/);
  assert.deepEqual(JSON.parse(await ok('list', 'policies', '--json')), []);
});

test('policies survive a restart of the server; a cleared one stays cleared', async () => {
  await ok('set-policy', 'keep', '^kept', '{"message-ttl": 60000, "dead-letter-exchange": "dlx"}');
  await ok('set-policy', 'gone', '.*', '{"alternate-exchange": "ae"}', '--apply-to', 'exchanges', '--vhost', '/');
  await ok('clear-policy', 'gone');
  await stopServer();
  await startServer();
  const rows = JSON.parse(await ok('list', 'policies', '--json')) as PolicyRow[];
  assert.deepEqual(rows, [{ vhost: '/', name: 'keep', pattern: '^kept', 'apply-to': 'all', priority: 0, definition: { 'message-ttl': 60000, 'dead-letter-exchange': 'dlx' } }]);
  await ok('clear-policy', 'keep');
});

test('bad definitions, invalid keys and unknown policies exit 1 with the reason', async () => {
  const notJson = await ctl('set-policy', 'p', '.*', '{max-length: 1}');
  assert.equal(notJson.code, 1);
  assert.match(notJson.stderr, /not valid JSON/);
  const notObject = await ctl('set-policy', 'p', '.*', '[1]');
  assert.equal(notObject.code, 1);
  assert.match(notObject.stderr, /must be a JSON object/);
  const unknownKey = await ctl('set-policy', 'p', '.*', '{"max-lenght": 1}');
  assert.equal(unknownKey.code, 1);
  assert.match(unknownKey.stderr, /400 bad_request: .*'max-lenght'/);
  const badPriority = await ctl('set-policy', 'p', '.*', '{"max-length": 1}', '--priority', 'high');
  assert.notEqual(badPriority.code, 0);
  assert.match(badPriority.stderr, /must be an integer/);
  const missing = await ctl('clear-policy', 'never-set');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /404/);
  assert.deepEqual(JSON.parse(await ok('list', 'policies', '--json')), []);
});
