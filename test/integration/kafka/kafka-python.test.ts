/**
 * kafka-python 2.0 (/usr/bin/python3 with Debian's python3-kafka): it ignores the advertised maxima,
 * infers the broker's version from the ranges (Produce v8 -> 2.4) and sends fixed versions
 * (Produce v7, Fetch v4, ListOffsets v1): admin create/delete, produce with keys, headers and
 * timestamps, consume from the beginning and an offset, offsets by time, beginning and end offsets.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '../../../../test/integration/kafka/python/client.py');

async function kafkaPythonMissing(): Promise<string | false> {
  if (!hasProgram(PYTHON)) return '/usr/bin/python3 is not installed';
  const probe = await run(PYTHON, ['-c', 'import kafka']);
  return probe.code === 0 ? false : 'kafka-python is not installed (Debian package python3-kafka)';
}

let warren: KafkaWarren;
let skip: string | false = false;
before(async () => {
  skip = await kafkaPythonMissing();
  if (skip === false) warren = await startKafkaWarren();
});
after(async () => {
  await warren?.close();
});

test('kafka-python 2.0: admin, producer with keys/headers/timestamps, consumer by offset and time', async (t) => {
  if (skip !== false) return t.skip(skip);
  const out = await run(PYTHON, [SCRIPT, warren.bootstrap, 'py-topic'], { timeoutMs: 60_000 });
  assert.equal(out.code, 0, out.stderr);
  const result = JSON.parse(out.stdout.trim().split('\n').pop()!) as Record<string, any>;
  assert.equal(result['duplicate'], 'TopicAlreadyExistsError');
  assert.deepEqual(result['topics'], ['py-topic']);
  assert.deepEqual(result['producer_version'], [2, 4, 0], 'inferred from Produce v8 in the ranges');
  const base = result['base'] as number;
  assert.deepEqual(result['earliest'], [0, 1, 2, 3, 4].map((i) => [i, `key-${i}`, `value-${i}`, [['i', String(i)]], base + i * 1000]));
  assert.deepEqual(result['from_offset_3'], [3, 4]);
  assert.deepEqual(result['offsets_for_times'], { '0': [3, base + 3000] });
  assert.equal(result['beginning'], 0);
  assert.equal(result['end'], 5);
  assert.equal(result['position_at_end'], 5);
  assert.deepEqual(result['after_delete'], []);
});
