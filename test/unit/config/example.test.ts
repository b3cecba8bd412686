import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';

/** The repository root, found by walking up from the compiled test (dist/ or a private build folder). */
function findExample(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    const candidate = join(dir, 'warren.example.yaml');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('warren.example.yaml not found above the test');
}

test('warren.example.yaml is valid and states exactly the defaults', () => {
  const file = findExample();
  const fromExample = loadConfig({ file, env: {}, cwd: dirname(file) });
  const defaults = loadConfig({ env: {}, cwd: dirname(file) });
  assert.equal(fromExample.configFile, file);
  assert.deepEqual({ ...fromExample, configFile: undefined }, defaults);
});
