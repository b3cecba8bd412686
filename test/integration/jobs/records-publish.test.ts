import { test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { api, type JobsBroker, jobsBrokerForFile } from './helpers.js';

let broker: JobsBroker;
jobsBrokerForFile((started) => (broker = started));

test("a records put with `publish` publishes only when the put held, in the same answer; amqplib reads the message", async () => {
  const connection = await amqp.connect(broker.amqpUrl);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue('outbox', { durable: true });
    const put = (key: string) => ({
      op: 'put',
      key,
      tag: 'waiting',
      value: { n: key },
      ifAbsent: true,
      publish: { exchange: '', routing_key: 'outbox', payload: `job ${key}`, properties: { delivery_mode: 2, message_id: key, headers: { 'x-job': key } } },
    });
    const first = await api(broker, 'POST', '/api/records/%2F/outbox', { ops: [put('a'), put('b'), put('a')] });
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.results.map((r: { ok: boolean; routed?: boolean }) => [r.ok, r.routed]), [[true, true], [true, true], [false, undefined]]);
    // The third op's condition failed: two messages, not three.
    assert.equal((await channel.checkQueue('outbox')).messageCount, 2);
    const message = await channel.get('outbox', { noAck: true });
    assert.ok(message !== false);
    assert.equal(message.content.toString(), 'job a');
    assert.equal(message.properties.messageId, 'a');
    assert.equal(message.properties.deliveryMode, 2);
    assert.equal(message.properties.headers?.['x-job'], 'a');

    // A missing exchange refuses the whole batch before anything is written.
    const refused = await api(broker, 'POST', '/api/records/%2F/outbox', { ops: [put('c'), { ...put('d'), publish: { exchange: 'nowhere', routing_key: '', payload: 'x' } }] });
    assert.equal(refused.status, 400);
    assert.match(refused.json.reason, /no exchange 'nowhere'/);
    assert.equal((await api(broker, 'GET', '/api/records/%2F/outbox/c')).status, 404);
    assert.equal((await channel.checkQueue('outbox')).messageCount, 1);

    // durable: false answers the same way (without waiting for the disk).
    const fast = await api(broker, 'POST', '/api/records/%2F/outbox', { ops: [{ op: 'put', key: 'a', tag: 'active', ifTagIn: ['waiting'] }], durable: false });
    assert.deepEqual(fast.json.results, [{ ok: true }]);
    assert.equal((await api(broker, 'GET', '/api/records/%2F/outbox/a')).json.tag, 'active');
  } finally {
    await connection.close();
  }
});

test('a put with `merge` sends only the fields it changes; a `transient` one is undone by a broker restart; non-booleans are refused', async () => {
  const post = (ops: unknown[], durable = true) => api(broker, 'POST', '/api/records/%2F/modes', { ops, ...(durable ? {} : { durable: false }) });
  assert.equal((await post([{ op: 'put', key: 'j', tag: 'waiting', value: { name: 'email', data: { to: 'a' } }, ifAbsent: true }])).status, 200);
  const taken = await post([{ op: 'put', key: 'j', tag: 'active', value: { processedOn: 5 }, merge: true, transient: true, ifTagIn: ['waiting'] }], false);
  assert.deepEqual(taken.json.results, [{ ok: true }]);
  const active = await api(broker, 'GET', '/api/records/%2F/modes/j');
  assert.equal(active.json.tag, 'active');
  assert.deepEqual(active.json.value, { name: 'email', data: { to: 'a' }, processedOn: 5 });
  // A second record finishes after its transient take: the journalled completion carries both merges.
  await post([{ op: 'put', key: 'k', tag: 'waiting', value: { name: 'k' } }]);
  await post([{ op: 'put', key: 'k', tag: 'active', value: { processedOn: 6 }, merge: true, transient: true }], false);
  await post([{ op: 'put', key: 'k', tag: 'completed', value: { finishedOn: 7 }, merge: true, ifTagIn: ['active'] }]);

  await broker.restart();
  const afterRestart = await api(broker, 'GET', '/api/records/%2F/modes/j');
  assert.equal(afterRestart.json.tag, 'waiting');
  assert.deepEqual(afterRestart.json.value, { name: 'email', data: { to: 'a' } });
  const finished = await api(broker, 'GET', '/api/records/%2F/modes/k');
  assert.equal(finished.json.tag, 'completed');
  assert.deepEqual(finished.json.value, { name: 'k', processedOn: 6, finishedOn: 7 });

  for (const name of ['merge', 'transient', 'ifAbsent']) {
    const refused = await post([{ op: 'put', key: 'j', tag: 'x', value: {}, [name]: 'yes' }]);
    assert.equal(refused.status, 400);
    assert.match(refused.json.reason, new RegExp(`ops\\[0\\]\\.${name} must be a boolean`));
  }
  assert.equal((await api(broker, 'GET', '/api/records/%2F/modes/j')).json.tag, 'waiting');
});
