/**
 * Cluster mistakes an operator makes: each gives a clear message and a non-zero exit, and nothing is
 * half-written (the second node of a name never joins; an unreachable database leaves no row).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cleanEnvironment, runCli } from '../cli/process.js';
import { TestCluster } from '../../helpers/cluster.js';
import { postgresForFile } from '../../helpers/postgres.js';

const pgServer = postgresForFile();
const dirs: string[] = [];
const clusters: TestCluster[] = [];
after(async () => {
  for (const cluster of clusters) await cluster.cleanup();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'warren-bad-cluster-'));
  dirs.push(dir);
  return dir;
}

async function runServer(url: string, name: string): Promise<{ code: number | string; stderr: string }> {
  const cli = runCli(['server', '--cluster', url, '--node-name', name, '--amqp-port', '0', '--http-port', '0', '--data-dir', tempDir()], cleanEnvironment());
  const code = await cli.exited;
  return { code, stderr: cli.stderr() };
}

test('a cluster URL nothing answers at: a clear message, exit 1', async () => {
  const { code, stderr } = await runServer('postgres://warren:secret@127.0.0.1:1/warren', 'n1');
  assert.equal(code, 1);
  assert.match(stderr, /cannot use the cluster database postgres:\/\/warren:\*\*\*@127\.0\.0\.1:1\/warren: nothing listens there/);
  assert.doesNotMatch(stderr, /secret/, 'the password is never printed');
});

test('a URL that is not postgres:// is a configuration error, exit 2', async () => {
  const { code, stderr } = await runServer('mysql://x@localhost/db', 'n1');
  assert.equal(code, 2);
  assert.match(stderr, /--cluster must be a postgres:\/\/ or postgresql:\/\/ URL/);
});

test('a database that refuses the login: exit 1, saying so', { skip: pgServer.skip }, async () => {
  const url = new URL(await pgServer.freshDatabase());
  url.password = 'wrong';
  const { code, stderr } = await runServer(url.toString(), 'n1');
  assert.equal(code, 1);
  assert.match(stderr, /the login was refused/);
});

test('two nodes with the same name: the second is refused while the first lives', { skip: pgServer.skip }, async () => {
  const cluster = new TestCluster(await pgServer.freshDatabase());
  clusters.push(cluster);
  await cluster.startNode('twin');
  const { code, stderr } = await runServer(cluster.databaseUrl, 'twin');
  assert.equal(code, 1);
  assert.match(stderr, /another node named 'twin' is alive in this cluster/);
  assert.ok(cluster.node('twin').running, 'the first node keeps running');
});

test('a schema from a newer Warren is refused and left as it is', { skip: pgServer.skip }, async () => {
  const url = await pgServer.freshDatabase();
  const cluster = new TestCluster(url);
  clusters.push(cluster);
  const first = await cluster.startNode('n1');
  await first.stop();
  const client = new pg.Client(url);
  await client.connect();
  try {
    await client.query('UPDATE warren_schema SET version = 99');
    const { code, stderr } = await runServer(url, 'n2');
    assert.equal(code, 1);
    assert.match(stderr, /schema version 99, newer than this Warren's \(1\); upgrade this node/);
    const { rows } = await client.query<{ version: number; nodes: string }>(`SELECT version, (SELECT count(*) FROM warren_nodes) AS nodes FROM warren_schema`);
    assert.deepEqual(rows[0], { version: 99, nodes: '1' }, 'nothing written: no new node row');
  } finally {
    await client.end();
  }
});
