/**
 * The benchmark scripts answer --help with their usage (the opening doc comment of each script) and an
 * unknown option with the error, the usage and exit status 2, instead of a stack trace.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const script = (name: string): string => fileURLToPath(new URL(`../../../bench/${name}.js`, import.meta.url));
const run = (name: string, ...args: string[]) => spawnSync(process.execPath, [script(name), ...args], { encoding: 'utf8', timeout: 30_000 });

test('--help prints the script usage and exits 0', () => {
  for (const name of ['run', 'kafka', 'scale', 'client-perf', 'null-broker', 'mqtt', 'mqtt-fan-in', 'sqs', 'jobs', 'push', 'crc']) {
    const result = run(name, '--help');
    assert.equal(result.status, 0, `${name}: ${result.stderr}`);
    assert.match(result.stdout, /node dist\/bench\/|npm run bench/, name);
    assert.doesNotMatch(result.stdout, /^\s*\*/m, `${name}: comment markers are stripped`);
  }
});

test('an unknown option prints the error and the usage and exits 2', () => {
  const result = run('run', '--no-such-option');
  assert.equal(result.status, 2);
  assert.match(result.stderr, /Unknown option '--no-such-option'/);
  assert.match(result.stderr, /npm run bench/);
});

test('records-journal: --help prints its usage; an unknown option exits 2 with the usage', () => {
  const help = run('records-journal', '--help');
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /node dist\/bench\/records-journal\.js/);
  const unknown = run('records-journal', '--no-such-option');
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--no-such-option'/);
});
