/** Debian's stomp.py (python3-stomp) over TCP, speaking STOMP 1.0, 1.1 and 1.2. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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

for (const version of ['1.0', '1.1', '1.2']) {
  test(`stomp.py ${version}: subscribe ack:client, send with receipt, cumulative ack, disconnect with receipt`, { skip: missing }, async () => {
    const queue = `py-${version.replace('.', '')}`;
    const { stdout } = await run(PYTHON, [SCRIPT, String(broker.stompPort), version, queue], { timeout: 20_000 });
    const seen = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as { messages: Array<{ body: string; headers: Record<string, string> }>; errors: string[] };
    assert.deepEqual(seen.errors, []);
    assert.deepEqual(seen.messages.map((m) => m.body), ['first', 'second:with colon']);
    assert.equal(seen.messages[0]!.headers['x-version'], version);
    assert.equal(seen.messages[0]!.headers['persistent'], 'true');
    await new Promise((r) => setTimeout(r, 100));
    const q = broker.server.broker.getVhost('/')?.getQueue(queue);
    assert.equal(q?.readyCount(), 0);
    assert.equal(q?.unackedCount(), 0, 'the cumulative ACK settled both');
  });
}
