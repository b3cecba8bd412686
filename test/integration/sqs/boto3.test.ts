import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startSqs, type TestSqs } from '../../helpers/sqs.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/integration/sqs/python/boto3_query.py');

async function boto3Missing(): Promise<string | false> {
  if (!existsSync(PYTHON)) return `${PYTHON} is not installed`;
  try {
    await run(PYTHON, ['-c', 'import boto3']);
    return false;
  } catch {
    return 'python3-boto3 is not installed (apt-get install python3-boto3)';
  }
}

describe("SQS door with Debian's boto3 (query protocol, XML)", async () => {
  const missing = await boto3Missing();
  let t: TestSqs;
  before(async () => {
    if (!missing) t = await startSqs();
  });
  after(() => t?.close());

  it('queues, messages, batches, attributes, typed errors, long polling, FIFO (duplicates, attempt ids), permissions and SigV4', { skip: missing }, async () => {
    const { stdout } = await run(PYTHON, [SCRIPT, t.endpoint], { timeout: 60_000 });
    assert.deepEqual(stdout.trim().split('\n'), ['ok queues', 'ok messages', 'ok batches', 'ok attributes', 'ok errors', 'ok fifo', 'ok permissions', 'ok sigv4', 'ok done']);
  });
});
