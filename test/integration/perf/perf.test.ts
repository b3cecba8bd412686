import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runDeclareStorm } from '../../../src/perf/declare-storm.js';
import { runPerf } from '../../../src/perf/runner.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';

describe('warren perf against an in-process Warren', () => {
  let broker: TestBroker;

  before(async () => {
    broker = await startBroker();
  });

  after(async () => {
    await broker.close();
  });

  it('reports non-zero publish and delivery rates and ordered latency percentiles for a timed run', async () => {
    const r = await runPerf({ url: broker.url, durationS: 1.5, reportIntervalS: 0, queuePrefix: 'perf-it-timed' });
    assert.deepEqual(r.errors, []);
    assert.ok(r.elapsedS >= 1.4 && r.elapsedS < 5, `elapsed ${r.elapsedS}`);
    assert.ok(r.totals.published > 1000, `published ${r.totals.published}`);
    assert.ok(r.totals.consumed > 1000, `consumed ${r.totals.consumed}`);
    assert.ok(r.totals.consumed <= r.totals.published);
    assert.ok(r.consumeRate > 0 && r.publishRate >= r.consumeRate);
    const l = r.latency;
    assert.equal(l.count, r.totals.consumed, 'every delivery carries a timestamp');
    assert.ok(l.p50 > 0 && l.p50 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
    assert.ok(l.max < 60_000_000, 'latency is measured in µs from a shared clock, not garbage');
    assert.ok(r.clientCpuS > 0);
    // Queues are deleted afterwards.
    assert.equal(broker.broker.getVhost('/')?.queues.has('perf-it-timed-0'), false);
  });

  it('accounts for every message exactly with confirms, a message limit and fanout', async () => {
    const r = await runPerf({
      url: broker.url,
      durationS: 0,
      messagesPerPublisher: 3000,
      confirm: 100,
      queues: 3,
      consumers: 3,
      fanout: true,
      reportIntervalS: 0,
      queuePrefix: 'perf-it-counted',
      workers: 'thread',
    });
    assert.deepEqual(r.errors, []);
    assert.equal(r.totals.published, 3000);
    assert.equal(r.totals.confirmed, 3000);
    assert.equal(r.totals.nacked, 0);
    assert.equal(r.totals.consumed, 9000, 'each message reaches all three queues');
  });

  it('runs against a stream queue: consumers read from first, and the stream keeps every message', async () => {
    const r = await runPerf({
      url: broker.url,
      durationS: 0,
      messagesPerPublisher: 3000,
      confirm: 100,
      queueType: 'stream',
      keepQueues: true,
      reportIntervalS: 0,
      queuePrefix: 'perf-it-stream',
      workers: 'thread',
    });
    assert.deepEqual(r.errors, []);
    assert.equal(r.totals.confirmed, 3000);
    assert.equal(r.totals.consumed, 3000);
    const queue = broker.broker.getVhost('/')?.getQueue('perf-it-stream-0');
    assert.equal(queue?.arguments['x-queue-type'], 'stream');
    assert.equal(queue?.readyCount(), 3000, 'reading a stream removes nothing');
    await assert.rejects(runPerf({ url: broker.url, queueType: 'stream', autoAck: true }), /stream consumers need manual acks/);
  });

  it('times a queue-declare storm and removes the queues', async () => {
    const r = await runDeclareStorm({ url: broker.url, count: 200, pipelined: false, durable: false, queuePrefix: 'perf-it' });
    assert.equal(r.count, 200);
    assert.ok(r.declareS > 0 && r.declaresPerS > 0);
    const queues = [...(broker.broker.getVhost('/')?.queues.keys() ?? [])];
    assert.deepEqual(queues.filter((q) => q.startsWith('perf-it-storm')), []);
  });

  it('fails with the broker reply when the URL credentials are wrong', async () => {
    const url = broker.url.replace('guest:guest', 'guest:wrong');
    await assert.rejects(runPerf({ url, durationS: 1, reportIntervalS: 0 }), (e: Error & { replyCode?: number }) => {
      return e.replyCode === 403 && /Login was refused/.test(e.message);
    });
  });
});
