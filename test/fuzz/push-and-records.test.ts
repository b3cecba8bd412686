/**
 * Fuzzing what push queues and the record API parse from clients: random queue arguments must give
 * settings or a PushSettingsError; random record batches over HTTP must give 200 or 400, never a 500,
 * and the broker keeps answering. Seeded by the loop index (deterministic).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pushSettings, PushSettingsError, retryAfterMs } from '../../src/push/settings.js';
import { startJobsBroker, api } from '../integration/jobs/helpers.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const VALUES: unknown[] = ['', 'x', 'https://e/x', 'http://[::1]:1/', 'ftp://x', -1, 0, 1, 2.5, 1e20, NaN, true, null, Buffer.from('https://e/y'), { a: 1 }, [1]];
const KEYS = ['x-push-endpoint', 'x-push-concurrency', 'x-push-timeout', 'x-push-max-attempts', 'x-push-min-backoff', 'x-push-max-backoff', 'x-push-max-doublings', 'x-push-max-age', 'x-push-secret'];

test('random push arguments: settings or PushSettingsError, nothing else', () => {
  const random = rng(7);
  for (let i = 0; i < 5000; i++) {
    const args: Record<string, unknown> = {};
    for (const key of KEYS) if (random() < 0.5) args[key] = VALUES[Math.floor(random() * VALUES.length)];
    try {
      const settings = pushSettings(args as never);
      if (settings !== undefined) assert.ok(settings.concurrency >= 1 && settings.timeoutMs >= 1);
    } catch (error) {
      assert.ok(error instanceof PushSettingsError, `unexpected ${String(error)} for ${JSON.stringify(args)}`);
    }
    const text = String(VALUES[Math.floor(random() * VALUES.length)]);
    const delay = retryAfterMs(text);
    assert.ok(delay === undefined || delay >= 0 || Number.isNaN(delay) === false);
  }
});

test('random record batches: 200 or 400, never a 500, and the API keeps answering', async () => {
  const broker = await startJobsBroker();
  try {
    const random = rng(11);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    const fields = ['op', 'key', 'tag', 'value', 'ifAbsent', 'ifTagIn', 'keep', 'maxAgeMs', 'limit', 'publish'];
    const values: unknown[] = [
      'put', 'delete', 'get', 'trim', 'nope', '', 'k', 'x'.repeat(1100), 1, -1, 1e308, null, true, [], ['a'], [1], {},
      // a put's message (records route `publish`): good, to a missing exchange, with bad properties
      { exchange: '', routing_key: 'fuzz-q', payload: 'p' },
      { exchange: 'amq.direct', routing_key: 'x', payload: 'p', properties: { delivery_mode: 2, headers: { a: 1 } } },
      { exchange: 'no-such-exchange', routing_key: '', payload: 'p' },
      { exchange: '', routing_key: 'fuzz-q', payload: 'p', properties: { priority: -1 } },
      { exchange: '', routing_key: 'fuzz-q', payload: 'p', properties: 'nope' },
      { exchange: 1, routing_key: [], payload: null },
    ];
    for (let i = 0; i < 150; i++) {
      const ops = Array.from({ length: Math.floor(random() * 4) }, () => Object.fromEntries(fields.filter(() => random() < 0.6).map((f) => [f, pick(values)])));
      const body = random() < 0.1 ? pick(values) : { ops, ...(random() < 0.2 ? { durable: pick(values) } : {}) };
      const { status } = await api(broker, 'POST', '/api/records/%2F/fuzz', body);
      assert.ok(status === 200 || status === 400, `status ${status} for ${JSON.stringify(body)}`);
    }
    assert.equal((await api(broker, 'GET', '/api/records/%2F/fuzz')).status, 200);
  } finally {
    await broker.close();
  }
});
