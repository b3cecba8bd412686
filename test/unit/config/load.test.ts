import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, unknownEnvironmentVariables } from '../../../src/config/index.js';

function withTempDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'warren-config-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function writeConfig(dir: string, text: string): string {
  const file = join(dir, 'warren.yaml');
  writeFileSync(file, text);
  return file;
}

test('defaults without a file: guest/guest administrator with full rights on /, loopback-only', () => {
  const config = loadConfig({ env: {}, cwd: '/srv/warren' });
  assert.deepEqual(config.amqp, { host: '0.0.0.0', port: 5672 });
  assert.equal(config.amqps, undefined);
  assert.deepEqual(config.http, { host: '0.0.0.0', port: 15672 });
  assert.equal(config.dataDir, '/srv/warren/data');
  assert.deepEqual(config.limits, {
    maxConnections: 10000,
    channelMax: 2047,
    frameMax: 131072,
    heartbeatSeconds: 60,
    maxMessageBytes: 134217728,
    consumerTimeoutMs: 0,
    memoryHighWatermark: 0.4,
  });
  assert.equal(config.log.level, 'info');
  assert.deepEqual(config.users, [{ name: 'guest', password: 'guest', tags: ['administrator'] }]);
  assert.deepEqual(config.vhosts, [{ name: '/' }]);
  assert.deepEqual(config.permissions, [{ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' }]);
  assert.deepEqual(config.loopbackUsers, ['guest']);
  assert.equal(config.configFile, undefined);
});

test('a full file is read, relative paths resolved against its folder', () => {
  withTempDir((dir) => {
    const file = writeConfig(dir, `
amqp: { host: 127.0.0.1, port: 5700 }
amqps: { port: 5701, cert: ./cert.pem, key: ./key.pem, ca: ./ca.pem }
http: { host: 127.0.0.1, port: 15700 }
dataDir: ./state
limits: { maxConnections: 50, channelMax: 100, frameMax: 8192, heartbeatSeconds: 0, maxMessageBytes: 1048576, consumerTimeoutMs: 30000, memoryHighWatermark: 0.6 }
log: { level: debug }
users:
  - { name: admin, password: s3cret, tags: [administrator] }
  - { name: app, passwordHash: eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O }
vhosts: [ { name: / }, prod ]
permissions:
  - { user: admin, vhost: /, configure: .*, write: .*, read: .* }
  - { user: app, vhost: prod, configure: '', write: '^app\\.', read: '^app\\.' }
loopbackUsers: []
`);
    const config = loadConfig({ file, env: {}, cwd: '/elsewhere' });
    assert.deepEqual(config.amqp, { host: '127.0.0.1', port: 5700 });
    assert.deepEqual(config.amqps, { host: '127.0.0.1', port: 5701, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem'), ca: join(dir, 'ca.pem') });
    assert.deepEqual(config.http, { host: '127.0.0.1', port: 15700 });
    assert.equal(config.dataDir, join(dir, 'state'));
    assert.deepEqual(config.limits, {
      maxConnections: 50,
      channelMax: 100,
      frameMax: 8192,
      heartbeatSeconds: 0,
      maxMessageBytes: 1048576,
      consumerTimeoutMs: 30000,
      memoryHighWatermark: 0.6,
    });
    assert.equal(config.log.level, 'debug');
    assert.deepEqual(config.users, [
      { name: 'admin', password: 's3cret', tags: ['administrator'] },
      { name: 'app', passwordHash: 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O', tags: [] },
    ]);
    assert.deepEqual(config.vhosts, [{ name: '/' }, { name: 'prod' }]);
    assert.deepEqual(config.permissions[1], { user: 'app', vhost: 'prod', configure: '', write: '^app\\.', read: '^app\\.' });
    assert.deepEqual(config.loopbackUsers, []);
    assert.equal(config.configFile, file);
  });
});

test('a partial file keeps defaults for what it does not say', () => {
  withTempDir((dir) => {
    const file = writeConfig(dir, 'limits: { frameMax: 65536 }\n');
    const config = loadConfig({ file, env: {} });
    assert.equal(config.limits.frameMax, 65536);
    assert.equal(config.limits.channelMax, 2047);
    assert.equal(config.amqp.port, 5672);
    assert.equal(config.users[0]?.name, 'guest');
  });
});

test('an empty file means all defaults', () => {
  withTempDir((dir) => {
    const config = loadConfig({ file: writeConfig(dir, '# nothing here\n'), env: {} });
    assert.equal(config.amqp.port, 5672);
  });
});

test('precedence: defaults < file < environment < flags', () => {
  withTempDir((dir) => {
    const file = writeConfig(dir, 'amqp: { host: 10.0.0.1, port: 6000 }\nhttp: { port: 16000 }\nlog: { level: warn }\n');
    const fileOnly = loadConfig({ file, env: {} });
    assert.deepEqual(fileOnly.amqp, { host: '10.0.0.1', port: 6000 });

    const env = { WARREN_AMQP_PORT: '7000', WARREN_LOG_LEVEL: 'error', WARREN_DATA_DIR: 'from-env' };
    const withEnv = loadConfig({ file, env, cwd: '/base' });
    assert.deepEqual(withEnv.amqp, { host: '10.0.0.1', port: 7000 });
    assert.equal(withEnv.http.port, 16000);
    assert.equal(withEnv.log.level, 'error');
    assert.equal(withEnv.dataDir, '/base/from-env');

    const withFlags = loadConfig({ file, env, cwd: '/base', flags: { 'amqp-port': '0', 'data-dir': '/abs/data' } });
    assert.equal(withFlags.amqp.port, 0);
    assert.equal(withFlags.amqp.host, '10.0.0.1');
    assert.equal(withFlags.log.level, 'error');
    assert.equal(withFlags.dataDir, '/abs/data');
  });
});

test('WARREN_CONFIG names the file; an explicit file wins over it', () => {
  withTempDir((dir) => {
    const fromEnv = join(dir, 'env.yaml');
    writeFileSync(fromEnv, 'amqp: { port: 6001 }\n');
    const explicit = writeConfig(dir, 'amqp: { port: 6002 }\n');
    assert.equal(loadConfig({ env: { WARREN_CONFIG: fromEnv } }).amqp.port, 6001);
    assert.equal(loadConfig({ file: explicit, env: { WARREN_CONFIG: fromEnv } }).amqp.port, 6002);
  });
});

test('WARREN_DEFAULT_USER/PASS rename the built-in user, but not when the file lists users', () => {
  const config = loadConfig({ env: { WARREN_DEFAULT_USER: 'admin', WARREN_DEFAULT_PASS: 'pw' } });
  assert.deepEqual(config.users, [{ name: 'admin', password: 'pw', tags: ['administrator'] }]);
  assert.deepEqual(config.permissions, [{ user: 'admin', vhost: '/', configure: '.*', write: '.*', read: '.*' }]);
  withTempDir((dir) => {
    const file = writeConfig(dir, 'users: [ { name: ops, password: x } ]\n');
    const fromFile = loadConfig({ file, env: { WARREN_DEFAULT_USER: 'admin' } });
    assert.deepEqual(fromFile.users.map((u) => u.name), ['ops']);
    assert.deepEqual(fromFile.permissions, []);
  });
});

test('amqps listens only with both cert and key', () => {
  assert.equal(loadConfig({ env: { WARREN_AMQPS_PORT: '5999' } }).amqps, undefined);
  const tls = loadConfig({ env: {}, cwd: '/c', flags: { 'amqps-cert': 'c.pem', 'amqps-key': 'k.pem', 'amqp-host': '127.0.0.1' } });
  assert.deepEqual(tls.amqps, { host: '127.0.0.1', port: 5671, cert: '/c/c.pem', key: '/c/k.pem', ca: undefined });
  assert.throws(() => loadConfig({ env: {}, flags: { 'amqps-cert': 'c.pem' } }), /amqps needs both cert and key \(only cert is set\)/);
});

function configError(text: string): string {
  let message = '';
  withTempDir((dir) => {
    const file = writeConfig(dir, text);
    try {
      loadConfig({ file, env: {} });
      assert.fail(`expected a ConfigError for:\n${text}`);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      message = error.message.replace(file, 'warren.yaml');
    }
  });
  return message;
}

test('validation messages name the file, the key, the rule and the bad value', () => {
  assert.equal(configError('limits: { frameMax: abc }'), "warren.yaml: limits.frameMax must be an integer from 4096 to 4294967295, got 'abc'");
  assert.equal(configError('limits: { frameMax: 100 }'), 'warren.yaml: limits.frameMax must be an integer from 4096 to 4294967295, got 100');
  assert.equal(configError('amqp: { port: 70000 }'), 'warren.yaml: amqp.port must be an integer from 0 to 65535, got 70000');
  assert.equal(configError('amqp: { port: 1.5 }'), 'warren.yaml: amqp.port must be an integer from 0 to 65535, got 1.5');
  assert.equal(configError('log: { level: loud }'), "warren.yaml: log.level must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'");
  assert.equal(configError('amqp: 5672'), 'warren.yaml: amqp must be a mapping, got 5672');
  assert.equal(configError('users: { name: x }'), 'warren.yaml: users must be a list, got {"name":"x"}');
  assert.equal(configError('users: [ { password: x } ]'), 'warren.yaml: users[0].name must be a non-empty string, got nothing');
  assert.equal(configError('users: [ { name: a } ]'), 'warren.yaml: users[0] must have exactly one of password or passwordHash');
  assert.equal(configError('users: [ { name: a, password: x, passwordHash: y } ]').startsWith('warren.yaml: users[0].passwordHash must be a RabbitMQ SHA-256 password hash'), true);
  assert.equal(configError('users: [ { name: a, password: x }, { name: a, password: y } ]'), "warren.yaml: users[1].name 'a' is defined twice");
  assert.equal(configError('permissions: [ { user: guest, configure: "(", write: "", read: "" } ]'), "warren.yaml: permissions[0].configure must be a valid regular expression, got '('");
  assert.equal(configError('permissions: [ { user: nobody, configure: "", write: "", read: "" } ]'), "warren.yaml: permissions[0].user 'nobody' is not defined under users");
  assert.equal(configError('permissions: [ { user: guest, vhost: v9, configure: "", write: "", read: "" } ]'), "warren.yaml: permissions[0].vhost 'v9' is not defined under vhosts");
  assert.equal(configError('permissions: [ { user: guest, write: "", read: "" } ]'), 'warren.yaml: permissions[0].configure must be a string, got nothing');
  assert.match(configError('amqp: [ oops'), /^warren\.yaml: invalid YAML: /);
  assert.equal(configError('- just\n- a list\n'), 'warren.yaml must be a mapping, got ["just","a list"]');
});

test('unknown keys are errors, at every level', () => {
  assert.match(configError('limts: { frameMax: 8192 }'), /^warren\.yaml: limts is not a known setting \(known here: amqp, amqps, http, dataDir, /);
  assert.equal(configError('limits: { frameMaxx: 8192 }'), 'warren.yaml: limits.frameMaxx is not a known setting (known here: maxConnections, channelMax, frameMax, heartbeatSeconds, maxMessageBytes, consumerTimeoutMs, memoryHighWatermark)');
  assert.match(configError('users: [ { name: a, password: b, tag: [x] } ]'), /^warren\.yaml: users\[0\]\.tag is not a known setting/);
});

test('environment and flag values are validated and named', () => {
  assert.throws(() => loadConfig({ env: { WARREN_AMQP_PORT: 'abc' } }), { name: 'ConfigError', message: "WARREN_AMQP_PORT must be an integer from 0 to 65535, got 'abc'" });
  assert.throws(() => loadConfig({ env: {}, flags: { 'frame-max': '12' } }), { message: "--frame-max must be an integer from 4096 to 4294967295, got '12'" });
  assert.throws(() => loadConfig({ env: {}, flags: { 'log-level': 'chatty' } }), { message: /^--log-level must be one of fatal, / });
  assert.equal(loadConfig({ env: { WARREN_AMQP_PORT: '' } }).amqp.port, 5672, 'an empty variable counts as unset');
  assert.equal(loadConfig({ env: { WARREN_MEMORY_HIGH_WATERMARK: '0.25' } }).limits.memoryHighWatermark, 0.25);
  assert.throws(() => loadConfig({ env: {}, flags: { 'memory-high-watermark': '1.5' } }), {
    message: "--memory-high-watermark must be a number above 0 and at most 1, got '1.5'",
  });
  assert.equal(loadConfig({ env: {}, flags: { 'consumer-timeout': '1800000' } }).limits.consumerTimeoutMs, 1800000);
});

test('a missing config file is a clear error', () => {
  assert.throws(() => loadConfig({ file: '/nonexistent/warren.yaml', env: {} }), { name: 'ConfigError', message: 'cannot read config file /nonexistent/warren.yaml: ENOENT' });
});

test('unknown WARREN_ variables are reported for a warning', () => {
  assert.deepEqual(unknownEnvironmentVariables({ WARREN_AMQP_PORT: '1', WARREN_AMPQ_PORT: '2', WARREN_CONFIG: 'x', PATH: '/bin' }), ['WARREN_AMPQ_PORT']);
});

test('each load returns its own objects: changing one config never leaks into the next', () => {
  const first = loadConfig({ env: {} });
  first.limits.frameMax = 4096;
  first.amqp.port = 1;
  first.users[0]!.tags.push('changed');
  first.loopbackUsers.push('changed');
  const second = loadConfig({ env: {} });
  assert.equal(second.limits.frameMax, 131072);
  assert.equal(second.amqp.port, 5672);
  assert.deepEqual(second.users[0]?.tags, ['administrator']);
  assert.deepEqual(second.loopbackUsers, ['guest']);
});
