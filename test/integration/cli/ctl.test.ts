import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { runCli, runCtl, runCtlOk, type CliProcess, type CtlResult } from './process.js';

const HTTP_LISTENING = /HTTP listening on (\S+):(\d+)/;
const AMQP_LISTENING = /AMQP listening on (\S+):(\d+)/;

let dir: string;
let server: CliProcess;
let url: string;
let amqpUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-ctl-'));
  server = runCli(['server', '--amqp-host', '127.0.0.1', '--amqp-port', '0', '--http-host', '127.0.0.1', '--http-port', '0', '--data-dir', join(dir, 'data')]);
  const [, , amqpPort] = await server.waitForOutput(AMQP_LISTENING);
  const [, host, port] = await server.waitForOutput(HTTP_LISTENING);
  url = `http://${host}:${port}`;
  amqpUrl = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
});

after(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  server.kill();
  await rm(dir, { recursive: true, force: true });
});

const ctl = (...args: string[]): Promise<CtlResult> => runCtl(url, ...args);
const ok = (...args: string[]): Promise<string> => runCtlOk(url, ...args);

test('declare, publish, list (table and JSON), get with and without requeue, purge, delete', async () => {
  assert.match(await ok('declare', 'queue', 'ctl.jobs'), /declared queue 'ctl.jobs'/);
  assert.match(await ok('declare', 'exchange', 'ctl.events', '--type', 'fanout', '--no-durable'), /declared exchange/);
  assert.match(await ok('publish', '', 'ctl.jobs', 'first'), /published \(routed\)/);
  await ok('publish', '', 'ctl.jobs', 'second');
  assert.match(await ok('publish', 'ctl.events', 'any', 'lost'), /routed to no queue/);

  const table = await ok('list', 'queues');
  assert.match(table.split('\n')[0]!, /^vhost\s+name\s+messages/);
  assert.match(table, /^\/\s+ctl\.jobs\s+2\s+2\s+0\s+0\s+true$/m);
  const queues = JSON.parse(await ok('list', 'queues', '--json')) as { name: string; messages_ready: number }[];
  assert.equal(queues.find((q) => q.name === 'ctl.jobs')?.messages_ready, 2);
  const exchanges = JSON.parse(await ok('--json', 'list', 'exchanges', '--vhost', '/')) as { name: string; type: string; durable: boolean }[];
  assert.deepEqual(exchanges.find((x) => x.name === 'ctl.events'), { ...exchanges.find((x) => x.name === 'ctl.events'), type: 'fanout', durable: false });

  const peeked = JSON.parse(await ok('get', 'ctl.jobs', '--count', '2', '--json')) as { payload: string }[];
  assert.deepEqual(peeked.map((m) => m.payload), ['first', 'second']);
  assert.match(await ok('get', 'ctl.jobs', '--no-requeue'), /first/);
  assert.match(await ok('list', 'queues'), /^\/\s+ctl\.jobs\s+1\s/m);
  assert.match(await ok('purge', 'ctl.jobs'), /purged/);
  assert.match(await ok('list', 'queues'), /^\/\s+ctl\.jobs\s+0\s/m);
  await ok('delete', 'queue', 'ctl.jobs');
  await ok('delete', 'exchange', 'ctl.events');
  assert.doesNotMatch(await ok('list', 'queues'), /ctl\.jobs/);
});

test('users and permissions: a user added by ctl connects over AMQP; errors exit 1 with the reason', async () => {
  await ok('add-user', 'dora', 'explorer', '--tags', 'management');
  await ok('set-permissions', 'dora', '--vhost', '/', '--configure', '^dora', '--write', '.*', '--read', '.*');
  assert.match(await ok('list', 'users'), /^dora\s+management$/m);
  assert.match(await ok('list', 'permissions'), /^dora\s+\/\s+\^dora\s+\.\*\s+\.\*$/m);
  const connection = await amqp.connect(amqpUrl.replace('guest:guest', 'dora:explorer'));
  await connection.close();
  const refused = await ctl('--user', 'dora', '--password', 'explorer', 'add-user', 'eve', 'x');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /401 not_authorised: Not administrator user/);
  await ok('delete-user', 'dora');
  assert.doesNotMatch(await ok('list', 'users'), /dora/);
  const missing = await ctl('purge', 'no-such-queue');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^warren ctl: 404 /);
});

test('export and import definitions through files; connections and consumers are listed', async () => {
  await ok('declare', 'queue', 'ctl.kept');
  const file = join(dir, 'definitions.json');
  await ok('export', file);
  const exported = JSON.parse(await readFile(file, 'utf8')) as { queues: { name: string }[] };
  assert.ok(exported.queues.some((q) => q.name === 'ctl.kept'));
  await ok('delete', 'queue', 'ctl.kept');
  await writeFile(file, JSON.stringify(exported));
  await ok('import', file);
  assert.match(await ok('list', 'queues'), /ctl\.kept/);

  const connection = await amqp.connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    await channel.consume('ctl.kept', () => undefined, { consumerTag: 'ctl-consumer' });
    assert.match(await ok('list', 'connections'), /guest\s+\/\s+running\s+1/);
    assert.match(await ok('list', 'consumers'), /ctl\.kept\s+ctl-consumer\s+true/);
  } finally {
    await connection.close();
  }
});

test('a broker that is not there is a clear error', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const result = await ctl('--url', `http://127.0.0.1:${port}`, 'list', 'queues');
  assert.equal(result.code, 1);
  assert.equal(result.stderr, `warren ctl: cannot connect to http://127.0.0.1:${port} (is the broker running with its HTTP API?)\n`);
});
