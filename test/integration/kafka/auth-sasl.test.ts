/**
 * SASL on the Kafka door with real clients: kafkajs (SaslHandshake v1 + SaslAuthenticate) and
 * kafka-python 2.0 (SaslHandshake v0 + bare tokens), PLAIN and SCRAM-SHA-256/512; wrong passwords
 * refused and that connection closed, others untouched; kafka.requireSasl.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { Reader } from '../../../src/kafka/protocol/reader.js';
import { RawKafkaClient, startKafkaWarren, type KafkaWarren } from './harness.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const FULL = { configure: '.*', write: '.*', read: '.*' };

let warren: KafkaWarren;
let strict: KafkaWarren;

before(async () => {
  warren = await startKafkaWarren();
  strict = await startKafkaWarren({ kafka: { requireSasl: true } });
  for (const w of [warren, strict]) {
    w.server.users.addUser('alice', 'wonderland');
    w.server.users.setPermissions('alice', '/', FULL);
    // Known only by a RabbitMQ hash (of 'guest'): PLAIN works, SCRAM cannot until the password is set.
    w.server.users.addUserWithHash('imported', 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O');
    w.server.users.setPermissions('imported', '/', FULL);
    w.server.users.addUser('novhost', 'pw');
  }
});
after(async () => {
  await Promise.all([warren?.close(), strict?.close()]);
});

function kafkajs(bootstrap: string, sasl: SASLOptions | undefined): Kafka {
  return new Kafka({
    clientId: 'auth-test',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 3000,
    ...(sasl === undefined ? {} : { sasl }),
  });
}

/** admin.connect() opens the seed connection: ApiVersions, then the SASL exchange, nothing else. */
async function kafkajsConnects(bootstrap: string, sasl: SASLOptions | undefined, whileConnected?: () => Promise<void>): Promise<string | undefined> {
  const admin = kafkajs(bootstrap, sasl).admin();
  try {
    await admin.connect();
    await whileConnected?.();
    return undefined;
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  } finally {
    await admin.disconnect();
  }
}

for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
  test(`kafkajs authenticates with ${mechanism}; a wrong password is SASL_AUTHENTICATION_FAILED`, async () => {
    const shown = async (): Promise<void> => {
      const { body } = await warren.api('GET', '/api/connections');
      const kafka = (body as Array<{ protocol: string; user: string; auth_mechanism: string }>).filter((c) => c.protocol === 'Kafka');
      assert.deepEqual(kafka.map((c) => [c.user, c.auth_mechanism]), [['alice', mechanism.toUpperCase()]]);
    };
    assert.equal(await kafkajsConnects(warren.bootstrap, { mechanism, username: 'alice', password: 'wonderland' } as SASLOptions, shown), undefined);
    const refused = await kafkajsConnects(warren.bootstrap, { mechanism, username: 'alice', password: 'nope' } as SASLOptions);
    assert.match(refused ?? '', /KafkaJSSASLAuthenticationError/);
    assert.match(refused ?? '', /invalid credentials/);
  });
}

test('kafkajs: a user known only by hash uses PLAIN, not SCRAM, until the password is set again', async () => {
  assert.equal(await kafkajsConnects(warren.bootstrap, { mechanism: 'plain', username: 'imported', password: 'guest' }), undefined);
  assert.match(await kafkajsConnects(warren.bootstrap, { mechanism: 'scram-sha-256', username: 'imported', password: 'guest' }) ?? '', /invalid credentials/);
  warren.server.users.changePassword('imported', 'guest');
  assert.equal(await kafkajsConnects(warren.bootstrap, { mechanism: 'scram-sha-256', username: 'imported', password: 'guest' }), undefined);
  warren.server.users.setPasswordHash('imported', 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O');
});

test('kafkajs: a user without permissions on the door\'s vhost is refused at authentication', async () => {
  const refused = await kafkajsConnects(warren.bootstrap, { mechanism: 'scram-sha-512', username: 'novhost', password: 'pw' });
  assert.match(refused ?? '', /access to vhost '\/' refused for user 'novhost'/);
});

/** kafka-python's own connection class: SaslHandshake v0, then the tokens as bare frames. */
const PYTHON_SASL = `
import json, socket, sys, logging, time
from kafka.conn import BrokerConnection
from kafka.protocol.admin import ApiVersionRequest
logging.disable(logging.CRITICAL)
port = int(sys.argv[1])
out = []
for mechanism, user, password in json.loads(sys.argv[2]):
    conn = BrokerConnection('127.0.0.1', port, socket.AF_INET, security_protocol='SASL_PLAINTEXT',
        sasl_mechanism=mechanism, sasl_plain_username=user, sasl_plain_password=password, api_version=(1, 0, 0))
    ok = conn.connect_blocking(timeout=5)
    versions = None
    if ok:
        # The connection is back to Kafka requests after the bare SASL tokens.
        conn.send(ApiVersionRequest[0]())
        conn.send_pending_requests()
        got, deadline = [], time.time() + 5
        while not got and time.time() < deadline:
            got = conn.recv()
        versions = bool(got) and got[0][0].error_code == 0 and len(got[0][0].api_versions) > 0
    out.append([mechanism, user, bool(ok), versions])
    conn.close()
print(json.dumps(out))
`;

test('kafka-python 2.0 authenticates with PLAIN and SCRAM over SaslHandshake v0; wrong passwords are refused', { skip: existsSync(PYTHON) ? false : `${PYTHON} is not installed` }, async (t) => {
  const probe = await run(PYTHON, ['-c', 'import kafka']).then(() => true, () => false);
  if (!probe) return t.skip('python3-kafka (kafka-python) is not installed');
  const cases = [
    ['PLAIN', 'alice', 'wonderland'], ['SCRAM-SHA-256', 'alice', 'wonderland'], ['SCRAM-SHA-512', 'alice', 'wonderland'],
    ['PLAIN', 'alice', 'bad'], ['SCRAM-SHA-256', 'alice', 'bad'], ['SCRAM-SHA-512', 'ghost', 'bad'],
  ];
  const { stdout } = await run(PYTHON, ['-c', PYTHON_SASL, String(strict.kafkaPort), JSON.stringify(cases)], { timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), [
    ['PLAIN', 'alice', true, true], ['SCRAM-SHA-256', 'alice', true, true], ['SCRAM-SHA-512', 'alice', true, true],
    ['PLAIN', 'alice', false, null], ['SCRAM-SHA-256', 'alice', false, null], ['SCRAM-SHA-512', 'ghost', false, null],
  ]);
});

function frameOf(parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

function str(text: string): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(text));
  b.writeInt16BE(Buffer.byteLength(text));
  b.write(text, 2);
  return b;
}

function bytes(data: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(data.length);
  return Buffer.concat([b, data]);
}

test('raw: SaslHandshake lists the mechanisms, refuses unknown ones, and SaslAuthenticate failure closes only that connection', async () => {
  const bystander = await RawKafkaClient.connect(strict.kafkaPort);
  const client = await RawKafkaClient.connect(strict.kafkaPort);
  client.request(17, 1, 1, str('GSSAPI'));
  const refused = new Reader((await client.next())!);
  assert.equal(refused.int32(), 1);
  assert.equal(refused.int16(), 33, 'UNSUPPORTED_SASL_MECHANISM');
  assert.deepEqual(refused.array((r) => r.string()), ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  client.request(17, 1, 2, str('PLAIN'));
  const accepted = new Reader((await client.next())!);
  assert.equal(accepted.int32(), 2);
  assert.equal(accepted.int16(), 0);
  client.request(36, 1, 3, bytes(Buffer.from('\0alice\0wrong')));
  const failed = new Reader((await client.next())!);
  assert.equal(failed.int32(), 3);
  assert.equal(failed.int16(), 58, 'SASL_AUTHENTICATION_FAILED');
  assert.equal(failed.nullableString(), "Authentication failed: user 'alice' - invalid credentials");
  await client.closedPromise;
  // The other connection still works: ApiVersions, then it may authenticate.
  bystander.request(18, 0, 9, Buffer.alloc(0));
  assert.equal(new Reader((await bystander.next())!).int32(), 9);
  bystander.request(17, 1, 10, str('PLAIN'));
  await bystander.next();
  bystander.request(36, 2, 11, frameOf([Buffer.from([18]), Buffer.from('\0alice\0wonderland'), Buffer.from([0])]), true);
  const ok = new Reader((await bystander.next())!, true);
  assert.equal(ok.int32(), 11);
  ok.taggedFields(); // response header v1
  assert.equal(ok.int16(), 0);
  assert.equal(ok.compactNullableString(), null);
  assert.equal(ok.compactNullableBytes()?.length, 0);
  assert.equal(ok.int64Number(), 0, "session_lifetime_ms");
  // Authenticated: a second handshake or authenticate is ILLEGAL_SASL_STATE, the connection stays.
  bystander.request(17, 1, 12, str('PLAIN'));
  const again = new Reader((await bystander.next())!);
  assert.equal(again.int32(), 12);
  assert.equal(again.int16(), 34, 'ILLEGAL_SASL_STATE');
  bystander.request(18, 0, 13, Buffer.alloc(0));
  assert.equal(new Reader((await bystander.next())!).int32(), 13);
  bystander.close();
});

test('requireSasl: an unauthenticated client may only send ApiVersions and SASL; anything else closes it, loopback included', async () => {
  const client = await RawKafkaClient.connect(strict.kafkaPort);
  client.request(18, 0, 1, Buffer.alloc(0));
  assert.ok(await client.next());
  client.request(3, 1, 2, Buffer.from([0xff, 0xff, 0xff, 0xff])); // Metadata v1, all topics
  assert.equal(await client.next(2000), undefined);
  assert.equal(client.closed, true);
  // Without requireSasl a loopback client is guest and passes the gate (an unknown API key still closes it).
  const guest = await RawKafkaClient.connect(warren.kafkaPort);
  guest.request(18, 0, 1, Buffer.alloc(0));
  assert.ok(await guest.next());
  guest.close();
});

test('users made through the management API (what warren ctl add_user does) use SCRAM, also after a restart; users set by hash only PLAIN', async () => {
  const first = await startKafkaWarren();
  const dataDir = first.dataDir;
  let second: KafkaWarren | undefined;
  try {
    assert.equal((await first.api('PUT', '/api/users/carol', { password: 'c-pass', tags: '' })).status, 201);
    assert.equal((await first.api('PUT', '/api/users/dave', { password_hash: 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O', tags: '' })).status, 201);
    for (const user of ['carol', 'dave']) assert.ok([201, 204].includes((await first.api('PUT', `/api/permissions/%2F/${user}`, FULL)).status));
    assert.equal(await kafkajsConnects(first.bootstrap, { mechanism: 'scram-sha-256', username: 'carol', password: 'c-pass' }), undefined);
    assert.equal(await kafkajsConnects(first.bootstrap, { mechanism: 'plain', username: 'dave', password: 'guest' }), undefined);
    assert.match(await kafkajsConnects(first.bootstrap, { mechanism: 'scram-sha-512', username: 'dave', password: 'guest' }) ?? '', /invalid credentials/);
    await first.stop();
    second = await startKafkaWarren({ dataDir });
    assert.equal(await kafkajsConnects(second.bootstrap, { mechanism: 'scram-sha-512', username: 'carol', password: 'c-pass' }), undefined);
    assert.match(await kafkajsConnects(second.bootstrap, { mechanism: 'scram-sha-512', username: 'carol', password: 'other' }) ?? '', /invalid credentials/);
  } finally {
    await first.stop();
    await (second ?? first).close();
  }
});
