/**
 * The throwaway PostgreSQL (src/cluster/postgres/throwaway.ts): start, kill, restart and stop, and
 * that nothing is left behind however its Node process ends. This file is also the child process
 * of the last two tests (WARREN_PG_CHILD set): it starts a server, prints it, and exits or waits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startThrowawayPostgres } from '../../../src/cluster/postgres/throwaway.js';
import { postgresForFile } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/wait.js';

const CHILD = process.env.WARREN_PG_CHILD;
if (CHILD) void runChild(CHILD);
else defineTests();

async function runChild(mode: string): Promise<void> {
  const server = await startThrowawayPostgres({ fast: true });
  process.stdout.write(`${JSON.stringify({ dir: server.socketDir, pid: server.pid })}\n`);
  if (mode === 'exit') process.exit(0); // no stop(): the 'exit' handler must clean up
  setInterval(() => undefined, 1000); // 'hang': waits for the parent's SIGKILL
}

/** Processes that still belong to a server dir: its postgres processes (cwd) and its watchdog (argv). */
function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) found.push(`${entry}: ${cmdline.replaceAll('\0', ' ').slice(0, 80)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '); // a zombie waits for its parent to reap it
  } catch {
    return false;
  }
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client(url);
  client.on('error', () => undefined); // kill() ends the connection; the failing query reports it
  await client.connect();
  return client;
}

function defineTests(): void {
  const db = postgresForFile({ fast: true });
  const { skip } = db;

  test('a throwaway PostgreSQL: password on TCP, kill keeps committed rows, restart recovers, stop removes everything', { skip, timeout: 120_000 }, async () => {
    const server = await startThrowawayPostgres(); // durable defaults: the crash below must not lose the commit
    try {
      assert.equal(server.host, '127.0.0.1');
      const client = await connect(server.url);
      await client.query('CREATE TABLE t (n int)');
      await client.query('INSERT INTO t VALUES (1)');
      const wrong = new URL(server.url);
      wrong.password = 'wrong';
      await assert.rejects(connect(wrong.toString()), /password authentication failed/);

      const pid = server.pid;
      assert.ok(pid !== undefined && alive(pid));
      await server.kill();
      assert.equal(server.pid, undefined);
      assert.ok(!alive(pid), 'the postmaster is gone');
      await assert.rejects(client.query('SELECT 1'));
      assert.ok(existsSync(server.dataDir), 'kill() keeps the files');

      await server.restart(); // crash recovery, same port
      const after = await connect(server.url);
      assert.deepEqual((await after.query('SELECT n FROM t')).rows, [{ n: 1 }]);
      const beforeClean = server.pid;
      await server.restart(); // while running: a clean shutdown first
      assert.notEqual(server.pid, beforeClean);
      await assert.rejects(after.query('SELECT 1'));
      const again = await connect(server.url);
      assert.deepEqual((await again.query('SELECT count(*)::int AS n FROM t')).rows, [{ n: 1 }]);
      await again.end();
    } finally {
      await server.stop();
    }
    assert.ok(!existsSync(server.socketDir), 'stop() removes the dir');
    assert.deepEqual(leftovers(server.socketDir), []);
    await server.stop(); // idempotent
    await assert.rejects(server.restart(), /after stop/);
  });

  test('the file server gives each test its own empty database', { skip }, async () => {
    const [a, b] = [await db.freshDatabase(), await db.freshDatabase()];
    assert.notEqual(a, b);
    const client = await connect(a);
    await client.query('CREATE TABLE mine (n int)');
    await client.end();
    const other = await connect(b);
    assert.deepEqual((await other.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'mine'`)).rows, [{ n: 0 }]);
    await other.end();
  });

  for (const [mode, how] of [
    ['exit', 'exits without stop()'],
    ['hang', 'is killed with SIGKILL'],
  ] as const) {
    test(`nothing is left behind when the Node process ${how}`, { skip, timeout: 60_000 }, async () => {
      const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
        env: { ...process.env, WARREN_PG_CHILD: mode },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await waitFor(() => out.includes('\n') || child.exitCode !== null, 'the child to start its server', 30_000);
      const { dir, pid } = JSON.parse(out) as { dir: string; pid: number };
      if (mode === 'hang') {
        assert.ok(alive(pid), 'the server runs until its Node process dies');
        child.kill('SIGKILL');
      }
      await exited;
      if (mode === 'exit') assert.ok(!existsSync(dir), "the 'exit' handler removed the dir before the process was gone");
      // After SIGKILL the watchdog cleans up, shortly; either way it exits itself once its pipe closes.
      await waitFor(() => !existsSync(dir) && leftovers(dir).length === 0 && !alive(pid), `the server in ${dir} to be cleaned up`, 10_000);
    });
  }
}
