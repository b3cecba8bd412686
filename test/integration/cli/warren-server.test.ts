import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { loadConfig, silentLogger, WarrenServer } from '../../../src/index.js';
import type { WarrenConfig } from '../../../src/index.js';

/** Each server gets its own data dir (the dir is locked while a server runs); removed after the tests. */
const dataDirs: string[] = [];
after(async () => {
  await Promise.all(dataDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

function localConfig(overrides: Record<string, string> = {}): WarrenConfig {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-server-data-'));
  dataDirs.push(dataDir);
  const flags = { 'amqp-host': '127.0.0.1', 'amqp-port': '0', 'http-host': '127.0.0.1', 'http-port': '0', 'log-level': 'silent', 'data-dir': dataDir };
  return loadConfig({ env: {}, flags: { ...flags, ...overrides } });
}

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-server-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('two servers run side by side in one process without sharing state', async () => {
  const first = new WarrenServer(localConfig(), silentLogger());
  const second = new WarrenServer(localConfig(), silentLogger());
  try {
    const [a, b] = await Promise.all([first.start(), second.start()]);
    assert.notEqual(a.amqp.port, b.amqp.port);
    assert.equal(a.amqps, undefined);
    const one = await amqp.connect(`amqp://guest:guest@127.0.0.1:${a.amqp.port}`);
    const two = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.amqp.port}`);
    try {
      await (await one.createChannel()).assertQueue('only-on-first');
      const probe = await two.createChannel();
      probe.on('error', () => undefined);
      await assert.rejects(probe.checkQueue('only-on-first'), /404/);
      assert.ok(first.broker.getVhost('/')?.queues.has('only-on-first'));
      assert.equal(second.broker.getVhost('/')?.queues.has('only-on-first'), false);
      second.users.addUser('only-second', 'pw');
      assert.equal(first.users.getUser('only-second'), undefined);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});

test('vhosts, users, tags and permissions from the config are built', async () => {
  const config = localConfig();
  config.vhosts = [{ name: '/' }, { name: 'orders' }];
  config.users = [
    { name: 'admin', password: 'pw', tags: ['administrator'] },
    { name: 'legacy', passwordHash: 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O', tags: [] }, // RabbitMQ's hash of 'guest'
  ];
  config.permissions = [{ user: 'legacy', vhost: 'orders', configure: '', write: '^orders\\.', read: '.*' }];
  const server = new WarrenServer(config, silentLogger());
  try {
    const { amqp: address } = await server.start();
    assert.ok(server.broker.getVhost('orders') !== undefined);
    assert.deepEqual(server.users.getUser('admin')?.tags, ['administrator']);
    const connection = await amqp.connect(`amqp://legacy:guest@127.0.0.1:${address.port}/orders`);
    const channel = await connection.createChannel();
    const closed = new Promise<Error>((resolve) => channel.once('error', resolve));
    channel.publish('amq.topic', 'x', Buffer.from('not allowed'));
    assert.match((await closed).message, /403.*write access to exchange 'amq\.topic' in vhost 'orders' refused for user 'legacy'/);
    await connection.close();
  } finally {
    await server.stop();
  }
});

test('amqps listens with the certificate and key files from the config', async () => {
  await withTempDir(async (dir) => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const server = new WarrenServer(localConfig({ 'amqps-port': '0', 'amqps-cert': cert, 'amqps-key': key }), silentLogger());
    try {
      const addresses = await server.start();
      assert.ok(addresses.amqps !== undefined);
      assert.notEqual(addresses.amqps.port, addresses.amqp.port);
      const connection = await amqp.connect(`amqps://guest:guest@localhost:${addresses.amqps.port}`, { ca: [await readFile(cert)], servername: 'localhost' });
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      assert.match(queue, /^amq\.gen-/);
      await connection.close();
    } finally {
      await server.stop();
    }
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

test('a missing certificate file fails start with the setting named, and closes the AMQP listener it opened', async () => {
  const port = await freePort();
  const server = new WarrenServer(
    localConfig({ 'amqp-port': String(port), 'amqps-port': '0', 'amqps-cert': '/nonexistent/cert.pem', 'amqps-key': '/nonexistent/key.pem' }),
    silentLogger(),
  );
  await assert.rejects(server.start(), /amqps\.cert: cannot read \/nonexistent\/cert\.pem: ENOENT/);
  assert.equal(server.doorListeners.length, 1, 'the plain AMQP listener had started');
  await assert.rejects(amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`), /ECONNREFUSED/);
  await server.stop(); // idempotent after a failed start
  await assert.rejects(server.start(), /was stopped/);
});

test('a busy port fails start with EADDRINUSE', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  const server = new WarrenServer(localConfig({ 'amqp-port': String(port) }), silentLogger());
  try {
    await assert.rejects(server.start(), { code: 'EADDRINUSE' });
  } finally {
    await server.stop();
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('stop before start and repeated start/stop are harmless', async () => {
  const idle = new WarrenServer(localConfig(), silentLogger());
  await idle.stop();
  const server = new WarrenServer(localConfig(), silentLogger());
  const [first, again] = await Promise.all([server.start(), server.start()]);
  assert.deepEqual(first, again);
  await Promise.all([server.stop(), server.stop()]);
  await assert.rejects(amqp.connect(`amqp://guest:guest@127.0.0.1:${first.amqp.port}`), /ECONNREFUSED/);
});
