/**
 * The architecture's one-way dependencies (ARCHITECTURE.md), checked on the sources: the management API
 * sees doors only through session/views.ts, the core reaches storage only through the store's
 * interfaces, the store and the session services know no door.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../../src');

function sources(folder: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(SRC, folder), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** Every module a source file imports (type imports included), as paths relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/from '(\.[^']+)'/g)) found.push(relative(SRC, resolve(dirname(file), match[1]!)));
  return found;
}

function offenders(folder: string, forbidden: (target: string) => boolean): string[] {
  return sources(folder).flatMap((file) => importsOf(file).filter(forbidden).map((target) => `${relative(SRC, file)} -> ${target}`));
}

const DOORS = ['amqp/', 'http/', 'sqs/', 'stomp/', 'mqtt/', 'kafka/'];

test('http/ does not import a front door: it reads connections through session/views.ts', () => {
  assert.deepEqual(offenders('http', (t) => t.startsWith('amqp/') || t.startsWith('stomp/')), []);
});

test('sqs/ imports no other front door', () => {
  assert.deepEqual(offenders('sqs', (t) => t.startsWith('amqp/') || t.startsWith('http/')), []);
});

test('broker/ reaches storage only through the store interfaces (and the default in-memory store)', () => {
  const allowed = new Set(['store/store.js', 'store/errors.js', 'store/memory-store.js']);
  assert.deepEqual(offenders('broker', (t) => t.startsWith('store/') && !allowed.has(t)), []);
});

test('broker/, store/ and session/ import no front door', () => {
  for (const folder of ['broker', 'store', 'session']) {
    assert.deepEqual(offenders(folder, (t) => DOORS.some((door) => t.startsWith(door))), [], folder);
  }
});

test('store/ knows nothing of the core but its error kinds', () => {
  assert.deepEqual(offenders('store', (t) => t.startsWith('broker/') && t !== 'broker/errors.js'), []);
});

test('front doors and session services hold queues as QueueView, never as the Queue class', () => {
  const queueInternals = (t: string) => t === 'broker/queue.js' || t.startsWith('broker/queue/');
  for (const folder of ['amqp', 'http', 'session', 'sqs', 'stomp', 'mqtt']) {
    assert.deepEqual(offenders(folder, queueInternals), [], folder);
  }
});

test('shovel/ and federation/ reach the core like a door (no other door, queues as QueueView), http/ sees them only as LinksView', () => {
  const queueInternals = (t: string) => t === 'broker/queue.js' || t.startsWith('broker/queue/');
  for (const folder of ['shovel', 'federation']) {
    assert.deepEqual(offenders(folder, (t) => DOORS.some((door) => t.startsWith(door)) || queueInternals(t) || t.startsWith('store/')), [], folder);
  }
  assert.deepEqual(offenders('http', (t) => t.startsWith('shovel/') || t.startsWith('federation/')), []);
  assert.deepEqual(offenders('broker', (t) => t.startsWith('shovel/') || t.startsWith('federation/')), []);
});

test('stomp/ reaches the core only through broker/, session/ and auth/, and imports no other door', () => {
  const allowed = (t: string): boolean => ['broker/', 'session/', 'auth/', 'stomp/'].some((p) => t.startsWith(p)) || t === 'version.js';
  assert.deepEqual(offenders('stomp', (t) => !allowed(t)), []);
});

test('jobs/ is a client library: it imports nothing of the server (it talks to a broker over AMQP and HTTP)', () => {
  assert.deepEqual(offenders('jobs', (t) => !t.startsWith('jobs/')), []);
});

test('push/ is a door over the core: no other door, no HTTP layer, no store internals', () => {
  assert.deepEqual(offenders('push', (t) => ['amqp/', 'http/', 'store/', 'jobs/', 'cluster/'].some((p) => t.startsWith(p))), []);
});

test('mqtt/ talks to the core and the session services only, never to another door', () => {
  assert.deepEqual(offenders('mqtt', (t) => ['amqp/', 'http/', 'cluster/', 'store/'].some((door) => t.startsWith(door))), []);
});

test('kafka/ reaches the core only through broker/, session/, auth/ and store/ interfaces, and imports no other door', () => {
  // util/ holds pure algorithms without state (hashes, checksums), shared by the core and the doors.
  const allowed = (t: string): boolean => ['broker/', 'session/', 'auth/', 'kafka/', 'util/', 'config/types.js', 'store/store.js'].some((p) => t.startsWith(p));
  assert.deepEqual(offenders('kafka', (t) => !allowed(t)), []);
  const queueInternals = (t: string) => t === 'broker/queue.js' || t.startsWith('broker/queue/');
  assert.deepEqual(offenders('kafka', queueInternals), []);
});
