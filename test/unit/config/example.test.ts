import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../../src/config/index.js';
import { DEFAULT_CLUSTER } from '../../../src/config/load.js';

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

test("warren.example.yaml's commented cluster section, uncommented, states the cluster defaults", () => {
  const file = findExample();
  const text = readFileSync(file, 'utf8');
  const section = text.slice(text.indexOf('# cluster:'));
  const uncommented = section.replace(/^# {0,1}/gm, '').replace(/^(?!cluster:| {2}\w).*$/gm, '');
  const dir = mkdtempSync(join(tmpdir(), 'warren-example-'));
  try {
    const clusterFile = join(dir, 'cluster.yaml');
    writeFileSync(clusterFile, uncommented);
    const config = loadConfig({ file: clusterFile, env: {}, cwd: dir });
    const { url, nodeName, linkPort, ...rest } = config.cluster ?? assert.fail('no cluster section');
    assert.match(url, /^postgres:\/\//);
    assert.equal(nodeName, 'warren@host1');
    assert.equal(linkPort, 5672);
    assert.deepEqual(rest, DEFAULT_CLUSTER);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
