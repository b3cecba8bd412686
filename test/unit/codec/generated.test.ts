/** The committed src/amqp/spec/generated.ts is what the generator makes from the spec XML today. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MethodId, allMethodIds, methodHasContent, methodNames } from '../../../src/amqp/codec/index.js';

const SPEC = join(process.cwd(), 'scripts/spec/amqp0-9-1.stripped.extended.xml');
const COMMITTED = join(process.cwd(), 'src/amqp/spec/generated.ts');
const GENERATOR = fileURLToPath(new URL('../../../scripts/generate-amqp-spec.js', import.meta.url));

test('generated.ts is up to date with the generator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warren-spec-'));
  try {
    const out = join(dir, 'generated.ts');
    execFileSync(process.execPath, [GENERATOR, SPEC, out], { stdio: 'pipe' });
    assert.equal(readFileSync(out, 'utf8'), readFileSync(COMMITTED, 'utf8'), 'run npm run generate:spec');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('method table facts from the spec', () => {
  assert.equal(MethodId.BasicPublish, 0x003c0028);
  assert.equal(methodNames[MethodId.ConnectionUpdateSecretOk], 'connection.update-secret-ok');
  assert.deepEqual(
    allMethodIds.filter(methodHasContent).map((id) => methodNames[id]),
    ['basic.publish', 'basic.return', 'basic.deliver', 'basic.get-ok'],
  );
  assert.equal(new Set(allMethodIds).size, allMethodIds.length);
});
