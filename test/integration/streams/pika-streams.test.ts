/** Stream queues through Debian's python3-pika (timestamp offsets as AMQP timestamps, single active consumer). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { PYTHON, clientEnvironment, missingPythonModule } from '../compat/compat-helpers.js';
import { startBroker } from '../../helpers/broker.js';

const skip = missingPythonModule('pika', 'python3-pika');

/** The script stays in the source tree: walk up from dist/ to it. */
function script(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'integration', 'streams', 'pika_streams.py');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('pika_streams.py not found');
    dir = parent;
  }
}

test('pika: stream offsets by AMQP timestamp and interval; single active consumer by name takes over after the acked offset', { skip, timeout: 60_000 }, async () => {
  const broker = await startBroker();
  try {
    const child = spawn(PYTHON, [script(), broker.url], { env: clientEnvironment() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, `pika failed:\n${out}\n${err}`);
    assert.deepEqual(out.trim().split('\n'), ['ok timestamp-offset', 'ok interval-offset', 'ok single-active', 'ok take-over']);
  } finally {
    await broker.close();
  }
});
