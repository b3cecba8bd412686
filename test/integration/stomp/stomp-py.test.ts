/** Debian's stomp.py (python3-stomp) over TCP, speaking STOMP 1.0, 1.1 and 1.2. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startStompServer, type StompServer } from './helpers.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/integration/stomp/py/stomp_client.py');

async function stompPyMissing(): Promise<string | undefined> {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  try {
    await run(PYTHON, ['-c', 'import stomp']);
    return undefined;
  } catch {
    return 'python3-stomp (stomp.py) is not installed; .ci/run installs it';
  }
}

const missing = await stompPyMissing();
let broker: StompServer;

before(async () => {
  if (missing === undefined) broker = await startStompServer();
});

after(async () => {
  await broker?.close();
});

/** Runs the stomp.py script; checks what it saw and that the queue is empty and settled after it. */
async function runScript(target: StompServer, port: number, version: string, queue: string, ca?: string): Promise<void> {
  const args = [SCRIPT, String(port), version, queue, ...(ca === undefined ? [] : [ca])];
  // Over TLS, stomp.py under a loaded CI now and then fails its connect (ConnectFailedException after
  // the server's 10 s CONNECT timeout: no CONNECT frame arrived; cause not found, 2 runs in about 8).
  // One fresh attempt is allowed for that case only; a door that cannot serve it twice still fails.
  const attempt = () => run(PYTHON, args, { timeout: 20_000 });
  const { stdout } = await attempt().catch((error: Error) => {
    if (ca === undefined || !String(error.message).includes('ConnectFailedException')) throw error;
    return attempt();
  });
  const seen = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { messages: Array<{ body: string; headers: Record<string, string> }>; errors: string[] };
  assert.deepEqual(seen.errors, []);
  assert.deepEqual(seen.messages.map((m) => m.body), ['first', 'second:with colon']);
  assert.equal(seen.messages[0]!.headers['x-version'], version);
  assert.equal(seen.messages[0]!.headers['persistent'], 'true');
  await new Promise((r) => setTimeout(r, 100));
  const q = target.server.broker.getVhost('/')?.getQueue(queue);
  assert.equal(q?.readyCount(), 0);
  assert.equal(q?.unackedCount(), 0, 'the cumulative ACK settled both');
}

for (const version of ['1.0', '1.1', '1.2']) {
  test(`stomp.py ${version}: subscribe ack:client, send with receipt, cumulative ack, disconnect with receipt`, { skip: missing }, async () => {
    await runScript(broker, broker.stompPort, version, `py-${version.replace('.', '')}`);
  });
}

test('stomp.py 1.2 over TLS (--stomp-tls-port with the amqps certificate), verifying the server', { skip: missing ?? (existsSync('/usr/bin/openssl') ? undefined : 'openssl is not installed') }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'warren-stomp-tls-'));
  try {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1', '-keyout', key, '-out', cert, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']);
    const tls = await startStompServer(undefined, { 'stomp-tls-port': '0', 'amqps-port': '0', 'amqps-cert': cert, 'amqps-key': key });
    try {
      const port = tls.addresses.stompTls?.port ?? 0;
      assert.ok(port > 0);
      await runScript(tls, port, '1.2', 'py-tls', cert);
      assert.equal(tls.server.doorListeners.find((l) => l.protocol === 'stomp/ssl') !== undefined, true);
    } finally {
      await tls.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
