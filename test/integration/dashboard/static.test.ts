import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { dashboardIfInstalled, dashboardPlugin } from '../../../src/http/dashboard/plugin.js';
import { findAssetsDir, loadAssets } from '../../../src/http/dashboard/static-assets.js';
import { startManaged } from '../http/http-helpers.js';
import { HttpServer } from '../../../src/http/server.js';
import { startBroker } from '../../helpers/broker.js';

async function withDashboard(run: (http: HttpServer) => Promise<void>): Promise<void> {
  const base = await startBroker();
  const http = new HttpServer(
    { broker: base.broker, users: base.users, connections: () => base.listener.amqpConnections },
    { host: '127.0.0.1', port: 0, sampleIntervalMs: 60_000, dashboard: dashboardPlugin() },
  );
  try {
    await run(http);
  } finally {
    await http.close();
    await base.close();
  }
}

test('the page is served at / and /dashboard/ without credentials, with a strict content security policy', async () => {
  await withDashboard(async (http) => {
    for (const url of ['/', '/dashboard/']) {
      const response = await http.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /<script type="module" src="\/dashboard\/app.js"><\/script>/);
      assert.match(String(response.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
    }
    const redirect = await http.app.inject({ method: 'GET', url: '/dashboard' });
    assert.equal(redirect.statusCode, 302);
    assert.equal(redirect.headers.location, '/dashboard/');
  });
});

test('scripts, nested view modules and styles get their content types; the API still wants credentials', async () => {
  await withDashboard(async (http) => {
    const script = await http.app.inject({ method: 'GET', url: '/dashboard/app.js' });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    const view = await http.app.inject({ method: 'GET', url: '/dashboard/views/queue.js' });
    assert.equal(view.statusCode, 200);
    assert.match(view.body, /export function createQueueView/);
    const style = await http.app.inject({ method: 'GET', url: '/dashboard/style.css' });
    assert.match(String(style.headers['content-type']), /^text\/css/);
    const api = await http.app.inject({ method: 'GET', url: '/api/overview' });
    assert.equal(api.statusCode, 401);
  });
});

test('only files of the assets folder are reachable, and an unchanged file answers 304', async () => {
  await withDashboard(async (http) => {
    for (const url of ['/dashboard/../package.json', '/dashboard/%2e%2e/%2e%2e/package.json', '/dashboard/nope.js', '/dashboard/lib/']) {
      const response = await http.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 404, url);
      assert.doesNotMatch(response.body, /"name": "warren"/);
    }
    const first = await http.app.inject({ method: 'GET', url: '/dashboard/app.js' });
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const again = await http.app.inject({ method: 'GET', url: '/dashboard/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
  });
});

test('the assets are found from the compiled module, and a folder without them is reported, not fatal', async () => {
  const dir = findAssetsDir();
  assert.match(dir, /src[\\/]http[\\/]dashboard[\\/]assets$/);
  const assets = loadAssets(dir);
  for (const file of ['index.html', 'app.js', 'style.css', 'lib/api.js', 'views/overview.js']) assert.ok(assets.has(file), file);

  const empty = await mkdtemp(join(tmpdir(), 'warren-dash-'));
  try {
    const errors: Error[] = [];
    assert.equal(dashboardIfInstalled((error) => errors.push(error), { assetsDir: empty }), undefined);
    assert.match(errors[0]?.message ?? '', /no index\.html/);
    assert.throws(() => findAssetsDir(empty), /dashboard assets .* not found/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

test('a custom assets folder is served as given (unknown file types are left out)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'warren-dash-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>custom</title>');
    await writeFile(join(dir, 'sub', 'a.js'), 'export const a = 1;');
    await writeFile(join(dir, 'secret.env'), 'TOKEN=1');
    const app = Fastify();
    await app.register(dashboardPlugin({ assetsDir: dir }));
    try {
      assert.match((await app.inject({ method: 'GET', url: '/' })).body, /custom/);
      assert.equal((await app.inject({ method: 'GET', url: '/dashboard/sub/a.js' })).body, 'export const a = 1;');
      assert.equal((await app.inject({ method: 'GET', url: '/dashboard/secret.env' })).statusCode, 404);
    } finally {
      await app.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the management API test helper still works without a dashboard (the hook is optional)', async () => {
  const managed = await startManaged();
  try {
    assert.equal((await managed.http.app.inject({ method: 'GET', url: '/' })).statusCode, 404);
  } finally {
    await managed.close();
  }
});
