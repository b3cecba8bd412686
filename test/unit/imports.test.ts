/**
 * Every module of dist/src imported first, on its own, in a fresh process. An import loop of values
 * can work when another module of the loop happens to load first and fail when this one does
 * ("Cannot access 'x' before initialization"), so each module gets a process of its own.
 * (`npm run check:cycles` finds such loops statically; this test checks what Node actually does.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const distSrc = fileURLToPath(new URL('../../src/', import.meta.url));

/** The CLI's entry: importing it runs the program on the child's argv (prints help, exits 1). */
const CLI_ENTRY = 'cli/main.js';

/**
 * The children's environment. NODE_EXTRA_CA_CERTS is left out: Node 20 parses that bundle when it
 * starts (about 50 ms a process, which is most of this test's time), and importing makes no TLS call.
 */
const childEnv: NodeJS.ProcessEnv = { ...process.env };
delete childEnv['NODE_EXTRA_CA_CERTS'];

/**
 * Every compiled module, as a path relative to dist/src. The dashboard's browser assets are not among
 * them: tsc compiles only .ts files, and the assets are served from src/ as they are.
 */
function compiledModules(): string[] {
  const files = readdirSync(distSrc, { recursive: true, encoding: 'utf8' });
  return files.filter((file) => file.endsWith('.js') && file !== CLI_ENTRY).sort();
}

/** Undefined when the module imports cleanly: exit 0 and nothing on stderr. */
async function importAlone(module: string): Promise<string | undefined> {
  const url = pathToFileURL(join(distSrc, module)).href;
  const args = ['--input-type=module', '-e', `await import(${JSON.stringify(url)})`];
  try {
    // A module that keeps the process alive when imported (a server, a timer) fails by the timeout.
    const { stderr } = await run(process.execPath, args, { env: childEnv, timeout: 30_000 });
    return stderr === '' ? undefined : `${module}: stderr: ${stderr.trim()}`;
  } catch (err) {
    const { code, signal, stderr } = err as { code?: number; signal?: string; stderr?: string };
    const lines = (stderr ?? '').split('\n');
    const error = lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.find((line) => line.trim() !== '');
    return `${module}: exit ${code ?? signal}: ${error ?? '(no stderr)'}`;
  }
}

/** Runs `task` on every item, at most `limit` at a time; results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

test('every module of dist/src can be the first one a process imports', async () => {
  const modules = compiledModules();
  assert.ok(modules.includes('index.js'), `the package's main module is among those found in ${distSrc}`);
  const failures = await inParallel(modules, Math.min(4, availableParallelism()), importAlone);
  assert.deepEqual(
    failures.filter((failure) => failure !== undefined),
    [],
  );
});
