import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { cleanEnvironment, runCli } from './process.js';

const LISTENING = /AMQP listening on (\S+):(\d+)/;

async function withTempDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'warren-cli-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('warren server: prints its port, serves amqplib, and on SIGTERM closes clients with 320 and exits 0', async () => {
  await withTempDir(async (dataDir) => {
    const cli = runCli(['server', '--amqp-port', '0', '--amqp-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir]);
    try {
      const [, host, port] = await cli.waitForOutput(LISTENING);
      assert.equal(host, '127.0.0.1');
      assert.ok(Number(port) > 0);
      const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`);
      const closed = new Promise<Error | undefined>((resolve) => connection.once('close', resolve));
      connection.on('error', () => undefined); // the forced close is also reported as 'error'
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('round trip'));
      const message = await new Promise<amqp.ConsumeMessage>((resolve) => {
        void channel.consume(queue, (m) => m && resolve(m), { noAck: true });
      });
      assert.equal(message.content.toString(), 'round trip');

      cli.child.kill('SIGTERM');
      const closeError = await closed;
      assert.match(String(closeError?.message), /320 \(CONNECTION-FORCED\).*broker forced connection closure with reason 'shutdown'/);
      assert.equal(await cli.exited, 0);
      assert.match(cli.stdout(), /Warren stopped/);
    } finally {
      cli.kill();
    }
  });
});

test('warren server: SIGINT without clients also exits 0', async () => {
  await withTempDir(async (dataDir) => {
    const cli = runCli(['server', '--amqp-port', '0', '--amqp-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir]);
    try {
      await cli.waitForOutput(LISTENING);
      cli.child.kill('SIGINT');
      assert.equal(await cli.exited, 0);
      assert.match(cli.stdout(), /SIGINT received: stopping/);
    } finally {
      cli.kill();
    }
  });
});

test('warren server: the config file and environment are applied, the user from the file can log in', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'warren.yaml');
    await writeFile(
      file,
      [
        'amqp: { host: 127.0.0.1, port: 5672 }',
        'users: [ { name: alice, password: wonderland, tags: [management] } ]',
        'vhosts: [ /, shop ]',
        'permissions: [ { user: alice, vhost: shop, configure: .*, write: .*, read: .* } ]',
        'dataDir: ./data',
      ].join('\n'),
    );
    // The environment overrides the file's port with 0 (a free port).
    const cli = runCli(['server', '--config', file], cleanEnvironment({ WARREN_AMQP_PORT: '0', WARREN_HTTP_PORT: '0' }));
    try {
      const [, , port] = await cli.waitForOutput(LISTENING);
      assert.notEqual(port, '5672');
      const connection = await amqp.connect(`amqp://alice:wonderland@127.0.0.1:${port}/shop`);
      await connection.close();
      await assert.rejects(amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`), /ACCESS_REFUSED|403/);
      // amqplib hides the reply text of a refused connection.open; the server logs it.
      await assert.rejects(amqp.connect(`amqp://alice:wonderland@127.0.0.1:${port}/`), /ConnectionClose/);
      await cli.waitForOutput(/"replyCode":530,"reason":"access to vhost '\/' refused for user 'alice'"/);
      cli.child.kill('SIGTERM');
      assert.equal(await cli.exited, 0);
    } finally {
      cli.kill();
    }
  });
});

test('warren server: a bad flag is reported with its name and exit code 2', async () => {
  const cli = runCli(['server', '--amqp-port', 'abc']);
  try {
    assert.equal(await cli.exited, 2);
    assert.equal(cli.stderr(), "warren: --amqp-port must be an integer from 0 to 65535, got 'abc'\n");
  } finally {
    cli.kill();
  }
});

test('warren server: an invalid config file names file, key and value', async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'warren.yaml');
    await writeFile(file, 'limits: { frameMax: abc }\n');
    const cli = runCli(['server', '--config', file]);
    try {
      assert.equal(await cli.exited, 2);
      assert.equal(cli.stderr(), `warren: ${file}: limits.frameMax must be an integer from 4096 to 4294967295, got 'abc'\n`);
    } finally {
      cli.kill();
    }
  });
});

test('warren server: a port already in use fails startup with exit code 1', async () => {
  await withTempDir(async (dataDir) => {
    const first = runCli(['server', '--amqp-port', '0', '--amqp-host', '127.0.0.1', '--http-port', '0', '--data-dir', dataDir]);
    try {
      const [, , port] = await first.waitForOutput(LISTENING);
      // Its own data dir: the same one would be refused for the lock before the port is tried.
      const second = runCli(['server', '--amqp-port', String(port), '--amqp-host', '127.0.0.1', '--http-port', '0', '--data-dir', join(dataDir, 'second')]);
      try {
        assert.equal(await second.exited, 1);
        assert.match(second.stdout(), /Warren failed to start: .*EADDRINUSE/);
      } finally {
        second.kill();
      }
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
    } finally {
      first.kill();
    }
  });
});

test('warren --help and warren server --help explain the options and environment', async () => {
  const top = runCli(['--help']);
  assert.equal(await top.exited, 0);
  assert.match(top.stdout(), /server \[options\]/);
  const server = runCli(['server', '--help']);
  assert.equal(await server.exited, 0);
  for (const expected of ['--amqp-port', '--amqp-host', '--amqps-port', '--http-port', '--data-dir', '--config', '--log-level', 'WARREN_AMQP_PORT', 'WARREN_CONFIG', 'WARREN_DATA_DIR', 'Precedence']) {
    assert.ok(server.stdout().includes(expected), `server --help lacks ${expected}`);
  }
});
