/**
 * Debian's kcat (librdkafka 2.0) with SASL on the Kafka door: PLAIN and SCRAM-SHA-256/512 over TCP
 * (SASL_PLAINTEXT) and TLS (SASL_SSL), a wrong password, and Warren's permissions mapped to
 * TOPIC_AUTHORIZATION_FAILED for produce, fetch and auto-create.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

const KCAT = '/usr/bin/kcat';
const skip = hasProgram(KCAT) ? false : 'kcat is not installed (Debian package kcat)';

let warren: KafkaWarren;
let dir: string;
let certPath: string;

before(async () => {
  if (skip !== false) return;
  dir = await mkdtemp(join(tmpdir(), 'warren-kafka-kcat-tls-'));
  certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '1',
    '-keyout', keyPath, '-out', certPath, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  warren = await startKafkaWarren({ kafka: { requireSasl: true, autoCreateTopics: true, tls: { host: '127.0.0.1', port: 0, cert: certPath, key: keyPath, ca: undefined } } });
  const users = warren.server.users;
  users.addUser('alice', 'wonderland');
  users.setPermissions('alice', '/', { configure: '.*', write: '.*', read: '.*' });
  users.addUser('writer', 'w');
  users.setPermissions('writer', '/', { configure: '', write: '.*', read: '' });
  users.addUser('reader', 'r');
  users.setPermissions('reader', '/', { configure: '', write: '', read: '.*' });
});
after(async () => {
  await warren?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function kcat(mechanism: string, user: string, password: string, args: string[], input?: string, tls = false): ReturnType<typeof run> {
  const port = tls ? warren.server.kafka!.tlsAddress!.port : warren.kafkaPort;
  const security = tls ? ['-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${certPath}`] : ['-X', 'security.protocol=SASL_PLAINTEXT'];
  return run(KCAT, ['-b', `localhost:${port}`, ...security, '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`, ...args],
    { ...(input === undefined ? {} : { input }), timeoutMs: 20_000 });
}

test('kcat produces and consumes with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, over TCP and TLS', { skip }, async () => {
  const sent: string[] = [];
  for (const tls of [false, true]) {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      const line = `${mechanism}-${tls ? 'tls' : 'tcp'}`;
      const produced = await kcat(mechanism, 'alice', 'wonderland', ['-P', '-t', 'kcat-sasl', '-X', 'acks=all'], `${line}\n`, tls);
      assert.equal(produced.code, 0, produced.stderr);
      sent.push(line);
    }
  }
  const consumed = await kcat('SCRAM-SHA-512', 'alice', 'wonderland', ['-C', '-t', 'kcat-sasl', '-o', 'beginning', '-e', '-q'], undefined, true);
  assert.equal(consumed.code, 0, consumed.stderr);
  assert.deepEqual(consumed.stdout.trim().split('\n'), sent);
});

test('kcat with a wrong password: SASL authentication failed, nothing produced', { skip }, async () => {
  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
    const refused = await kcat(mechanism, 'alice', 'bad', ['-P', '-t', 'kcat-refused'], 'x\n');
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SASL authentication error: Authentication failed: user 'alice' - invalid credentials/);
  }
  const topics = await kcat('PLAIN', 'alice', 'wonderland', ['-L']);
  assert.doesNotMatch(topics.stdout, /kcat-refused/);
});

test('permissions: write without read produces but cannot fetch; read without write cannot produce; auto-create needs configure', { skip }, async () => {
  assert.equal((await kcat('PLAIN', 'alice', 'wonderland', ['-P', '-t', 'kcat-perm'], 'from-alice\n')).code, 0);
  const written = await kcat('SCRAM-SHA-256', 'writer', 'w', ['-P', '-t', 'kcat-perm'], 'from-writer\n');
  assert.equal(written.code, 0, written.stderr);
  const notRead = await kcat('SCRAM-SHA-256', 'writer', 'w', ['-C', '-t', 'kcat-perm', '-o', 'beginning', '-e']);
  assert.notEqual(notRead.code, 0);
  assert.match(notRead.stderr, /Topic authorization failed/);
  const notWritten = await kcat('SCRAM-SHA-256', 'reader', 'r', ['-P', '-t', 'kcat-perm'], 'from-reader\n');
  assert.notEqual(notWritten.code, 0);
  assert.match(notWritten.stderr, /Topic authorization failed/);
  const read = await kcat('SCRAM-SHA-256', 'reader', 'r', ['-C', '-t', 'kcat-perm', '-o', 'beginning', '-e', '-q']);
  assert.deepEqual(read.stdout.trim().split('\n'), ['from-alice', 'from-writer']);
  const created = await kcat('PLAIN', 'writer', 'w', ['-P', '-t', 'kcat-perm-new'], 'x\n');
  assert.match(created.stderr, /Topic authorization failed/);
});
