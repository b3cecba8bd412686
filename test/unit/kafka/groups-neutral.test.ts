/**
 * The group coordinator and the offset store are protocol-neutral: they import nothing outside
 * src/kafka/groups/ but each other (no codec, no session, no core), so they can be driven by a test's
 * clock and fakes, and the handlers are the only Kafka-shaped code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const GROUPS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../src/kafka/groups');
const NEUTRAL = ['clock.ts', 'coordinator.ts', 'errors.ts', 'group.ts', 'member.ts', 'offsets.ts', 'protocol-selection.ts', 'types.ts'];

test('the coordinator, its groups and the offset store import only each other (and node:crypto)', () => {
  for (const file of NEUTRAL) {
    const text = readFileSync(resolve(GROUPS, file), 'utf8');
    const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
    const foreign = imports.filter((target) => !(target.startsWith('./') && !target.includes('/handlers/')) && target !== 'node:crypto');
    assert.deepEqual(foreign, [], file);
  }
});
