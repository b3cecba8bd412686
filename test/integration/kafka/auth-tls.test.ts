/**
 * Kafka over TLS (`kafka.tlsPort`): kafkajs and kafka-python connect with a self-signed certificate
 * (made here with the openssl CLI) and authenticate with SASL over it (Kafka's SASL_SSL).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig } from 'kafkajs';
import { startKafkaWarren, type KafkaWarren } from './harness.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

let dir: string;
let certPath: string;
let warren: KafkaWarren;
let tlsPort: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warren-kafka-tls-'));
  certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-sha256', '-days', '1',
    '-keyout', keyPath, '-out', certPath, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  warren = await startKafkaWarren({ kafka: { requireSasl: true, tls: { host: '127.0.0.1', port: 0, cert: certPath, key: keyPath, ca: undefined } } });
  tlsPort = warren.server.kafka!.tlsAddress!.port;
  warren.server.users.addUser('alice', 'wonderland');
  warren.server.users.setPermissions('alice', '/', { configure: '.*', write: '.*', read: '.*' });
});
after(async () => {
  await warren?.close();
  await rm(dir, { recursive: true, force: true });
});

async function connects(config: Omit<KafkaJsConfig, 'brokers'>, port: number, whileConnected?: () => Promise<void>): Promise<string | undefined> {
  const admin = new Kafka({ brokers: [`localhost:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 2000, authenticationTimeout: 2000, ...config }).admin();
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

test('kafkajs over TLS with SCRAM-SHA-512: the certificate verifies against its CA, and the connection shows as TLS', async () => {
  const ssl = { ca: [readFileSync(certPath)] };
  const shown = async (): Promise<void> => {
    const { body } = await warren.api('GET', '/api/connections');
    const kafka = (body as Array<{ protocol: string; user: string; ssl: boolean; auth_mechanism: string }>).filter((c) => c.protocol === 'Kafka');
    assert.deepEqual(kafka.map((c) => [c.user, c.ssl, c.auth_mechanism]), [['alice', true, 'SCRAM-SHA-512']]);
  };
  assert.equal(await connects({ ssl, sasl: { mechanism: 'scram-sha-512', username: 'alice', password: 'wonderland' } }, tlsPort, shown), undefined);
  assert.match(await connects({ ssl, sasl: { mechanism: 'plain', username: 'alice', password: 'bad' } }, tlsPort) ?? '', /SASLAuthentication/);
  // Without the CA the self-signed certificate is refused by the client.
  assert.match(await connects({ ssl: true, sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' } }, tlsPort) ?? '', /self.signed|certificate/i);
  // TLS to the plain port does not get through.
  assert.notEqual(await connects({ ssl, sasl: { mechanism: 'plain', username: 'alice', password: 'wonderland' } }, warren.kafkaPort), undefined);
});

const PYTHON_TLS = `
import json, socket, sys, logging, time
from kafka.conn import BrokerConnection
from kafka.protocol.admin import ApiVersionRequest
logging.disable(logging.CRITICAL)
port, cafile = int(sys.argv[1]), sys.argv[2]
out = []
for mechanism, password in [('SCRAM-SHA-256', 'wonderland'), ('PLAIN', 'wonderland'), ('SCRAM-SHA-256', 'bad')]:
    conn = BrokerConnection('localhost', port, socket.AF_INET, security_protocol='SASL_SSL', ssl_cafile=cafile,
        sasl_mechanism=mechanism, sasl_plain_username='alice', sasl_plain_password=password, api_version=(1, 0, 0))
    ok = conn.connect_blocking(timeout=5)
    got = []
    if ok:
        conn.send(ApiVersionRequest[0]())
        conn.send_pending_requests()
        deadline = time.time() + 5
        while not got and time.time() < deadline:
            got = conn.recv()
    out.append([mechanism, bool(ok), bool(got)])
    conn.close()
print(json.dumps(out))
`;

test('kafka-python over TLS (SASL_SSL) with SCRAM-SHA-256 and PLAIN', { skip: existsSync(PYTHON) ? false : `${PYTHON} is not installed` }, async (t) => {
  if (!(await run(PYTHON, ['-c', 'import kafka']).then(() => true, () => false))) return t.skip('python3-kafka (kafka-python) is not installed');
  const { stdout } = await run(PYTHON, ['-c', PYTHON_TLS, String(tlsPort), certPath], { timeout: 30_000 });
  assert.deepEqual(JSON.parse(stdout), [['SCRAM-SHA-256', true, true], ['PLAIN', true, true], ['SCRAM-SHA-256', false, false]]);
});
