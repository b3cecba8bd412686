import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import { waitFor } from '../../helpers/wait.js';
import { runCtl, runCtlOk } from '../cli/process.js';
import { parseConfigText } from '../../../src/config/file.js';

let warren: TestWarren;

before(async () => {
  // A static shovel from the config file's `shovels:` section (YAML, as an operator writes it).
  const layer = parseConfigText(
    ['shovels:', '  boot-time:', '    vhost: /', "    src-uri: 'amqp://'", '    src-queue: static-src', "    dest-uri: 'amqp://'", '    dest-queue: static-dst', ''].join('\n'),
    'test.yaml',
    '/',
  );
  warren = await startWarren({ configure: (config) => (config.shovels = layer.shovels ?? {}) });
});
after(() => warren?.close());

async function publish(queue: string, count: number): Promise<void> {
  const connection = await amqp.connect(warren.url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) channel.sendToQueue(queue, Buffer.from(`${i}`), { persistent: true });
  await channel.waitForConfirms();
  await connection.close();
}

async function depth(queue: string): Promise<number> {
  const { status, body } = await warren.api('GET', `/api/queues/%2F/${queue}`);
  return status === 200 ? body.messages : -1;
}

test('a static shovel from the config file runs from the start and is listed as static', async () => {
  await waitFor(async () => ((await warren.api('GET', '/api/shovels')).body as any[]).some((s) => s.name === 'boot-time' && s.state === 'running'), 'the static shovel running');
  const row = ((await warren.api('GET', '/api/shovels')).body as any[]).find((s) => s.name === 'boot-time');
  assert.equal(row.type, 'static');
  await publish('static-src', 7);
  await waitFor(async () => (await depth('static-dst')) === 7, 'moved by the static shovel');
  assert.deepEqual((await warren.api('GET', '/api/parameters/shovel')).body, [], 'static shovels are not parameters');
});

test('a bad static shovel is a config error naming it', () => {
  assert.throws(
    () => parseConfigText(['shovels:', '  broken:', "    src-uri: 'amqp://'", "    dest-uri: 'amqp://'", ''].join('\n'), 'test.yaml', '/'),
    /test\.yaml: shovels\.broken: Validation failed for shovel 'broken': exactly one of 'src-queue' and 'src-exchange'/,
  );
});

test('warren ctl shovel add, list (table and JSON), restart, delete', async () => {
  const url = `http://127.0.0.1:${warren.httpPort}`;
  await publish('ctl-src', 25);
  const added = await runCtlOk(url, 'shovel', 'add', 'by-ctl', '--src-uri', 'amqp://', '--src-queue', 'ctl-src', '--dest-uri', 'amqp://', '--dest-queue', 'ctl-dst', '--prefetch', '10', '--forward-headers');
  assert.match(added, /added shovel 'by-ctl' on vhost '\/'/);
  await waitFor(async () => (await depth('ctl-dst')) === 25, 'moved by the ctl shovel');
  const table = await runCtlOk(url, 'shovel', 'list');
  assert.match(table, /by-ctl\s+dynamic\s+running\s+amqp:\/\/\s+amqp:\/\/\s+25/);
  const rows = JSON.parse(await runCtlOk(url, '--json', 'shovel', 'list')) as any[];
  assert.equal(rows.find((r) => r.name === 'by-ctl')?.dest_queue, 'ctl-dst');
  assert.equal((await warren.api('GET', '/api/parameters/shovel/%2F/by-ctl')).body.value['dest-add-forward-headers'], true);
  assert.match(await runCtlOk(url, 'shovel', 'restart', 'by-ctl'), /restarted shovel 'by-ctl'/);
  await waitFor(async () => ((await warren.api('GET', '/api/shovels/vhost/%2F/by-ctl')).body?.state ?? '') === 'running', 'running again after the restart');
  assert.match(await runCtlOk(url, 'shovel', 'delete', 'by-ctl'), /deleted shovel 'by-ctl'/);
  const refused = await runCtl(url, 'shovel', 'add', 'bad', '--src-uri', 'amqp://', '--dest-uri', 'amqp://');
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /exactly one of 'src-queue' and 'src-exchange'/);
});
