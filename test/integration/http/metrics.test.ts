import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { startManaged, type ManagedBroker } from './http-helpers.js';

let b: ManagedBroker;
before(async () => {
  b = await startManaged({ sampleIntervalMs: 200 });
});
after(() => b.close());

/** The value of one sample line, e.g. `rabbitmq_queue_messages_ready{vhost="/",queue="m"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('/metrics reflects amqplib traffic under rabbitmq_prometheus names, without authentication', async () => {
  const connection = await amqp.connect(b.url);
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue('m');
    for (let i = 0; i < 3; i++) channel.sendToQueue('m', Buffer.from('x'));
    await channel.waitForConfirms();
    const got = await channel.get('m', { noAck: false });
    assert.ok(got);
    channel.ack(got);
    const unacked = await channel.get('m', { noAck: false });
    assert.ok(unacked);
    await channel.consume('m', () => undefined, { noAck: false });

    const response = await b.http.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    const text = response.body;
    assert.match(text, /# TYPE rabbitmq_global_messages_received_total counter/);
    // 3 published; 1 acked; 1 held unacked by the get; the consumer took the last one (unacked too).
    assert.equal(sample(text, 'rabbitmq_queue_messages_ready{vhost="/",queue="m"}'), 0);
    assert.equal(sample(text, 'rabbitmq_queue_messages_unacked{vhost="/",queue="m"}'), 2);
    assert.equal(sample(text, 'rabbitmq_queue_consumers{vhost="/",queue="m"}'), 1);
    assert.equal(sample(text, 'rabbitmq_global_messages_received_total'), 3);
    assert.equal(sample(text, 'rabbitmq_global_messages_delivered_total'), 3);
    assert.equal(sample(text, 'rabbitmq_global_messages_acknowledged_total'), 1);
    assert.equal(sample(text, 'rabbitmq_connections'), 1);
    assert.equal(sample(text, 'rabbitmq_channels'), 1);
    assert.equal(sample(text, 'rabbitmq_consumers'), 1);
    assert.ok((sample(text, 'rabbitmq_process_resident_memory_bytes') ?? 0) > 0);
    assert.ok((sample(text, 'rabbitmq_disk_space_available_bytes') ?? 0) > 0);
  } finally {
    await connection.close();
  }
  // The channel closed: its two unacked messages went back; a deleted queue leaves the metrics.
  await b.api('DELETE', '/api/queues/%2F/m');
  const after = (await b.http.app.inject({ method: 'GET', url: '/metrics' })).body;
  assert.equal(sample(after, 'rabbitmq_queue_messages_ready{vhost="/",queue="m"}'), undefined);
  assert.equal(sample(after, 'rabbitmq_global_messages_received_total'), 3, 'totals survive the queue only once sampled; the sampler ran');
});

test('message_stats rates come from sampled counters', async () => {
  await b.api('PUT', '/api/queues/%2F/rated', {});
  b.http.context.rates.sample();
  for (let i = 0; i < 20; i++) {
    await b.json('POST', '/api/exchanges/%2F/amq.default/publish', { routing_key: 'rated', payload: 'x', payload_encoding: 'string', properties: {} });
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const queue = await b.json('GET', '/api/queues/%2F/rated');
  assert.equal(queue.message_stats.publish, 20);
  assert.ok(queue.message_stats.publish_details.rate > 0, `queue publish rate ${queue.message_stats.publish_details.rate}`);
  assert.equal(queue.message_stats.ack_details.rate, 0);
  const overview = await b.json('GET', '/api/overview');
  assert.ok(overview.message_stats.publish_details.rate > 0);
  assert.ok(overview.message_stats.publish >= 20);
});
