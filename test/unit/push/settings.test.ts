import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushSettings, PushSettingsError, retryAfterMs, retryDelay } from '../../../src/push/settings.js';
import { endpointRefusal } from '../../../src/push/endpoint-guard.js';

test('push settings from queue arguments, with defaults and limits', () => {
  assert.equal(pushSettings({}), undefined);
  const s = pushSettings({ 'x-push-endpoint': 'https://example.com/hook', 'x-push-concurrency': 4, 'x-push-timeout': 1_800_000 })!;
  assert.equal(s.concurrency, 4);
  assert.equal(s.timeoutMs, 1_800_000);
  assert.equal(s.maxAttempts, 10);
  assert.throws(() => pushSettings({ 'x-push-endpoint': 'https://e/x', 'x-push-timeout': 1_800_001 }), PushSettingsError);
  assert.throws(() => pushSettings({ 'x-push-endpoint': 'ftp://e/x' }), PushSettingsError);
  assert.throws(() => pushSettings({ 'x-push-endpoint': 'not a url' }), PushSettingsError);
  assert.throws(() => pushSettings({ 'x-push-endpoint': 'https://e/x', 'x-push-concurrency': 'many' }), PushSettingsError);
});

test('backoff doubles from min, at most maxDoublings times, capped at max; Retry-After in seconds or a date', () => {
  const s = pushSettings({ 'x-push-endpoint': 'https://e/x', 'x-push-min-backoff': 100, 'x-push-max-backoff': 1000, 'x-push-max-doublings': 2 })!;
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => retryDelay(s, a)), [100, 200, 400, 400, 400]);
  const big = pushSettings({ 'x-push-endpoint': 'https://e/x', 'x-push-min-backoff': 300, 'x-push-max-backoff': 1000 })!;
  assert.equal(retryDelay(big, 5), 1000);
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs(null), undefined);
});

test('endpoint guard: https only by default, private/loopback/link-local refused unless allow-listed', async () => {
  const safe = { allowHttp: false, allowHosts: [] };
  assert.match((await endpointRefusal(new URL('http://93.184.216.34/'), safe)) ?? '', /http endpoints/);
  for (const host of ['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '[::1]', '[fe80::1]', '[::ffff:127.0.0.1]']) {
    assert.match((await endpointRefusal(new URL(`https://${host}/`), safe)) ?? '', /private, loopback or link-local/, host);
  }
  assert.equal(await endpointRefusal(new URL('https://93.184.216.34/'), safe), undefined);
  assert.equal(await endpointRefusal(new URL('http://127.0.0.1:8080/'), { allowHttp: true, allowHosts: ['127.0.0.1'] }), undefined);
});

test('config: the push section is read and checked; defaults are https only, nothing allow-listed', async () => {
  const { parseConfigText } = await import('../../../src/config/file.js');
  const { loadConfig, ConfigError } = await import('../../../src/config/index.js');
  const layer = parseConfigText('push:\n  allowHttp: true\n  allowHosts: [127.0.0.1]\n  secrets:\n    orders: whsec_abc\n', 'warren.yaml', '/');
  assert.deepEqual(layer.push, { allowHttp: true, allowHosts: ['127.0.0.1'], secrets: { orders: 'whsec_abc' } });
  assert.throws(() => parseConfigText('push:\n  allowHttp: maybe\n', 'warren.yaml', '/'), ConfigError);
  assert.throws(() => parseConfigText('push:\n  other: 1\n', 'warren.yaml', '/'), ConfigError);
  assert.deepEqual(loadConfig({ env: {}, flags: {} }).push, { allowHttp: false, allowHosts: [], secrets: {} });
});
