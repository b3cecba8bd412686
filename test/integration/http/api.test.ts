import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import { basic, startManaged, type ManagedBroker } from './http-helpers.js';

describe('management API against a live broker', () => {
  let b: ManagedBroker;
  before(async () => {
    b = await startManaged();
  });
  after(() => b.close());

  test('authentication: missing or wrong credentials get 401 with WWW-Authenticate; no management tag is refused', async () => {
    const missing = await b.http.app.inject({ method: 'GET', url: '/api/overview' });
    assert.equal(missing.statusCode, 401);
    assert.match(String(missing.headers['www-authenticate']), /^Basic realm=/);
    const wrong = await b.api('GET', '/api/overview', undefined, ['guest', 'nope']);
    assert.equal(wrong.statusCode, 401);
    assert.match(String(wrong.headers['www-authenticate']), /^Basic/);
    b.users.addUser('plain', 'pw', []);
    const untagged = await b.api('GET', '/api/overview', undefined, ['plain', 'pw']);
    assert.equal(untagged.statusCode, 401);
    assert.deepEqual(untagged.json(), { error: 'not_authorised', reason: 'Not management user' });
  });

  test('a management user reads its vhosts but cannot change users or vhosts (401 not_authorised, as RabbitMQ)', async () => {
    b.users.addUser('watcher', 'pw', ['management']);
    b.users.setPermissions('watcher', '/', { configure: '^watched', write: '.*', read: '.*' });
    const auth: [string, string] = ['watcher', 'pw'];
    assert.equal((await b.api('GET', '/api/queues', undefined, auth)).statusCode, 200);
    const createVhost = await b.api('PUT', '/api/vhosts/sneaky', {}, auth);
    assert.equal(createVhost.statusCode, 401);
    assert.deepEqual(createVhost.json(), { error: 'not_authorised', reason: 'Not administrator user' });
    assert.equal((await b.api('GET', '/api/users', undefined, auth)).statusCode, 401);
    // Vhost permissions apply like over AMQP: configure '^watched' allows this queue and not another.
    assert.equal((await b.api('PUT', '/api/queues/%2F/watched.q', {}, auth)).statusCode, 201);
    const refused = await b.api('PUT', '/api/queues/%2F/other.q', {}, auth);
    assert.equal(refused.statusCode, 401);
    assert.match(refused.json().reason, /configure access to queue 'other.q' in vhost '\/' refused for user 'watcher'/);
  });

  test('bad JSON and missing fields are 400 bad_request; unknown objects 404 Object Not Found', async () => {
    const bad = await b.api('PUT', '/api/queues/%2F/q-bad', '{oops');
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json(), { error: 'bad_request', reason: 'not_json' });
    const missing = await b.api('POST', '/api/exchanges/%2F/amq.default/publish', { routing_key: 'x' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'bad_request');
    const unknown = await b.api('GET', '/api/queues/%2F/no-such-queue');
    assert.equal(unknown.statusCode, 404);
    assert.deepEqual(unknown.json(), { error: 'Object Not Found', reason: 'Not Found' });
    assert.equal((await b.api('GET', '/api/no/such/path')).statusCode, 404);
    assert.equal((await b.api('GET', '/api/exchanges/no-vhost')).statusCode, 404);
  });

  test('AMQP-level errors map their reply codes: 406 inequivalent -> 400, reserved name 403 -> 401', async () => {
    assert.equal((await b.api('PUT', '/api/queues/%2F/equiv', { durable: true })).statusCode, 201);
    assert.equal((await b.api('PUT', '/api/queues/%2F/equiv', { durable: 'true' })).statusCode, 204);
    const inequivalent = await b.api('PUT', '/api/queues/%2F/equiv', { durable: false });
    assert.equal(inequivalent.statusCode, 400);
    assert.match(inequivalent.json().reason, /inequivalent arg 'durable' for queue 'equiv'/);
    assert.equal((await b.api('PUT', '/api/exchanges/%2F/amq.mine', { type: 'direct' })).statusCode, 401);
    assert.equal((await b.api('PUT', '/api/exchanges/%2F/typo', { type: 'nosuch' })).statusCode, 400);
  });

  test('queues show what amqplib published; get, browse, move and purge work on them', async () => {
    const connection = await amqp.connect(b.url);
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue('jobs', { durable: true });
      await channel.assertQueue('jobs.repair', { durable: true });
      for (let i = 0; i < 5; i++) channel.sendToQueue('jobs', Buffer.from(`job ${i}`), { contentType: 'text/plain', headers: { n: i } });
      await channel.waitForConfirms();

      const queue = await b.json('GET', '/api/queues/%2F/jobs');
      assert.equal(queue.messages_ready, 5);
      assert.equal(queue.messages, 5);
      assert.equal(queue.messages_unacknowledged, 0);
      assert.equal(queue.message_bytes, 25);
      assert.equal(queue.state, 'running');
      assert.equal(queue.message_stats.publish, 5);
      const listed = await b.json<any[]>('GET', '/api/queues?columns=name,messages_ready');
      assert.deepEqual(listed.find((q) => q.name === 'jobs'), { name: 'jobs', messages_ready: 5 });

      const browsed = await b.json<any[]>('GET', '/api/queues/%2F/jobs/messages?offset=1&count=2');
      assert.deepEqual(browsed.map((m) => m.payload), ['job 1', 'job 2']);
      assert.equal((await b.json('GET', '/api/queues/%2F/jobs')).message_stats.deliver_get, 0, 'browsing delivers nothing');

      const got = await b.json<any[]>('POST', '/api/queues/%2F/jobs/get', { count: 2, ackmode: 'ack_requeue_true', encoding: 'auto' });
      assert.deepEqual(got.map((m) => [m.payload, m.payload_encoding, m.redelivered, m.message_count]), [
        ['job 0', 'string', false, 4],
        ['job 1', 'string', false, 3],
      ]);
      assert.deepEqual(got[0].properties, { content_type: 'text/plain', headers: { n: 0 } });
      assert.equal((await b.json('GET', '/api/queues/%2F/jobs')).messages_ready, 5, 'requeued');
      const again = await b.json<any[]>('POST', '/api/queues/%2F/jobs/get', { count: 1, ackmode: 'ack_requeue_false', encoding: 'base64' });
      assert.equal(again[0].redelivered, true);
      assert.equal(Buffer.from(again[0].payload, 'base64').toString(), 'job 0');
      assert.equal((await b.json('GET', '/api/queues/%2F/jobs')).messages_ready, 4, 'acked away');

      assert.deepEqual(await b.json('POST', '/api/queues/%2F/jobs/move', { destination: 'jobs.repair', count: 3 }), { moved: 3 });
      const repaired = await b.json<any[]>('GET', '/api/queues/%2F/jobs.repair/messages?count=10');
      assert.deepEqual(repaired.map((m) => m.payload), ['job 1', 'job 2', 'job 3']);
      const fromRepair = await channel.get('jobs.repair', { noAck: true });
      assert.ok(fromRepair);
      assert.equal(fromRepair.content.toString(), 'job 1');
      assert.equal(fromRepair.properties.headers?.['n'], 1);

      assert.equal((await b.api('DELETE', '/api/queues/%2F/jobs/contents')).statusCode, 204);
      assert.equal((await b.json('GET', '/api/queues/%2F/jobs')).messages_ready, 0);
      assert.equal((await b.api('DELETE', '/api/queues/%2F/jobs')).statusCode, 204);
      assert.equal((await b.api('GET', '/api/queues/%2F/jobs')).statusCode, 404);
      assert.equal((await b.api('DELETE', '/api/queues/%2F/jobs')).statusCode, 404);
    } finally {
      await connection.close();
    }
  });

  test('exchanges: declare, publish ({routed}), bindings by properties key, e2e bindings, delete', async () => {
    assert.equal((await b.api('PUT', '/api/exchanges/%2F/events', { type: 'topic', durable: true })).statusCode, 201);
    assert.equal((await b.api('PUT', '/api/queues/%2F/audit', {})).statusCode, 201);
    const bound = await b.api('POST', '/api/bindings/%2F/e/events/q/audit', { routing_key: 'order.*', arguments: {} });
    assert.equal(bound.statusCode, 201);
    assert.equal(bound.headers['location'], 'audit/order.%252A');
    const rows = await b.json<any[]>('GET', '/api/bindings/%2F/e/events/q/audit');
    assert.deepEqual(rows, [
      { source: 'events', vhost: '/', destination: 'audit', destination_type: 'queue', routing_key: 'order.*', arguments: {}, properties_key: 'order.%2A' },
    ]);
    assert.equal((await b.json('GET', '/api/bindings/%2F/e/events/q/audit/order.%252A')).routing_key, 'order.*');

    const publish = (key: string) =>
      b.json('POST', '/api/exchanges/%2F/events/publish', { routing_key: key, payload: 'x', payload_encoding: 'string', properties: {} });
    assert.deepEqual(await publish('order.created'), { routed: true });
    assert.deepEqual(await publish('invoice.created'), { routed: false });
    const exchange = await b.json('GET', '/api/exchanges/%2F/events');
    assert.equal(exchange.type, 'topic');
    assert.equal(exchange.message_stats.publish_in, 2);

    assert.equal((await b.api('PUT', '/api/exchanges/%2F/events.copy', { type: 'fanout' })).statusCode, 201);
    assert.equal((await b.api('POST', '/api/bindings/%2F/e/events/e/events.copy', { routing_key: '#' })).statusCode, 201);
    assert.equal((await b.json<any[]>('GET', '/api/exchanges/%2F/events/bindings/source')).length, 2);
    assert.equal((await b.json<any[]>('GET', '/api/exchanges/%2F/events.copy/bindings/destination')).length, 1);

    assert.equal((await b.api('DELETE', '/api/bindings/%2F/e/events/q/audit/order.%252A')).statusCode, 204);
    assert.deepEqual(await publish('order.created'), { routed: false });
    assert.equal((await b.api('DELETE', '/api/bindings/%2F/e/events/q/audit/order.%252A')).statusCode, 404);
    assert.equal((await b.api('DELETE', '/api/exchanges/%2F/events')).statusCode, 204);
    assert.equal((await b.api('GET', '/api/exchanges/%2F/events')).statusCode, 404);
    const all = await b.json<any[]>('GET', '/api/bindings/%2F');
    assert.ok(all.some((row) => row.source === '' && row.destination === 'audit'), 'default exchange bindings are listed');
  });

  test('vhosts, users and permissions CRUD; a user made through the API logs in over AMQP', async () => {
    assert.equal((await b.api('PUT', '/api/vhosts/shop', {})).statusCode, 201);
    assert.equal((await b.api('PUT', '/api/vhosts/shop', {})).statusCode, 204);
    assert.ok((await b.json<any[]>('GET', '/api/vhosts')).some((v) => v.name === 'shop'));
    assert.equal((await b.api('PUT', '/api/users/carol', { password: 's3cret', tags: 'management,monitoring' })).statusCode, 201);
    assert.deepEqual((await b.json('GET', '/api/users/carol')).tags, ['management', 'monitoring']);
    assert.equal((await b.api('PUT', '/api/users/carol', { password: 's3cret', tags: ['management'] })).statusCode, 204);
    assert.equal((await b.api('PUT', '/api/permissions/shop/carol', { configure: '.*', write: '.*', read: '.*' })).statusCode, 201);
    assert.deepEqual(await b.json('GET', '/api/permissions/shop/carol'), { user: 'carol', vhost: 'shop', configure: '.*', write: '.*', read: '.*' });
    assert.equal((await b.api('PUT', '/api/permissions/nowhere/carol', { configure: '.*', write: '.*', read: '.*' })).statusCode, 400);
    const carol = await amqp.connect(`amqp://carol:s3cret@127.0.0.1:${b.port}/shop`);
    await carol.close();
    assert.equal((await b.api('DELETE', '/api/permissions/shop/carol')).statusCode, 204);
    assert.equal((await b.api('DELETE', '/api/users/carol')).statusCode, 204);
    assert.equal((await b.api('GET', '/api/users/carol')).statusCode, 404);
    assert.equal((await b.api('DELETE', '/api/vhosts/shop')).statusCode, 204);
    assert.equal((await b.api('GET', '/api/vhosts/shop')).statusCode, 404);
    assert.deepEqual(await b.json('GET', '/api/whoami'), { name: 'guest', tags: ['administrator'] });
  });

  test('connections, channels and consumers of live amqplib clients; DELETE closes with 320', async () => {
    const connection = await amqp.connect(b.url, { clientProperties: { connection_name: 'worker-1' } });
    // amqplib reports 320 CONNECTION_FORCED on 'close' (not 'error': it is not fatal to amqplib).
    const closed = new Promise<Error>((resolve) => connection.on('close', resolve));
    const channel = await connection.createChannel();
    await channel.prefetch(7);
    await channel.assertQueue('work');
    await channel.consume('work', () => undefined, { consumerTag: 'ctag-1' });
    const connections = await b.json<any[]>('GET', '/api/connections');
    const mine = connections.find((c) => c.user_provided_name === 'worker-1');
    assert.ok(mine);
    assert.equal(mine.user, 'guest');
    assert.equal(mine.vhost, '/');
    assert.equal(mine.channels, 1);
    const channels = await b.json<any[]>('GET', `/api/connections/${encodeURIComponent(mine.name)}/channels`);
    assert.equal(channels.length, 1);
    assert.equal(channels[0].prefetch_count, 7);
    assert.equal(channels[0].consumer_count, 1);
    assert.equal(channels[0].name, `${mine.name} (1)`);
    const consumers = await b.json<any[]>('GET', '/api/consumers/%2F');
    const consumer = consumers.find((c) => c.consumer_tag === 'ctag-1');
    assert.ok(consumer);
    assert.deepEqual(consumer.queue, { name: 'work', vhost: '/' });
    assert.equal(consumer.prefetch_count, 7);
    assert.equal(consumer.channel_details.connection_name, mine.name);
    const overview = await b.json('GET', '/api/overview');
    assert.equal(overview.product_name, 'Warren');
    assert.ok(overview.object_totals.connections >= 1);
    assert.ok(overview.object_totals.consumers >= 1);

    assert.equal((await b.api('DELETE', `/api/connections/${encodeURIComponent(mine.name)}`)).statusCode, 204);
    const error = await closed;
    assert.match(error.message, /320/);
    assert.match(error.message, /Closed via management plugin/);
    for (let i = 0; i < 100 && (await b.json<any[]>('GET', '/api/connections')).some((c) => c.name === mine.name); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal((await b.api('DELETE', `/api/connections/${encodeURIComponent(mine.name)}`)).statusCode, 404);
  });

  test('operator policies: set, listed in RabbitMQ\'s shape, validated, deleted (policies proper: policies.test.ts)', async () => {
    assert.deepEqual(await b.json('GET', '/api/operator-policies'), []);
    assert.equal((await b.api('PUT', '/api/operator-policies/%2F/p', { pattern: '.*', definition: { 'max-length': 1 } })).statusCode, 201);
    const expected = { vhost: '/', name: 'p', pattern: '.*', 'apply-to': 'queues', definition: { 'max-length': 1 }, priority: 0 };
    assert.deepEqual(await b.json('GET', '/api/operator-policies'), [expected]);
    assert.deepEqual(await b.json('GET', '/api/operator-policies/%2F/p'), expected);
    assert.deepEqual(await b.json('GET', '/api/parameters'), [], 'operator policies are not listed as parameters');
    const refused = await b.api('PUT', '/api/operator-policies/%2F/q', { pattern: '.*', definition: { 'dead-letter-exchange': 'x' } });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json().reason, /'dead-letter-exchange' are not recognised operator policy settings/);
    assert.equal((await b.api('DELETE', '/api/operator-policies/%2F/p')).statusCode, 204);
    assert.equal((await b.api('DELETE', '/api/operator-policies/%2F/p')).statusCode, 404);
  });

  test('pagination and sorting follow RabbitMQ (page, page_size, sort, sort_reverse)', async () => {
    for (const name of ['pg-a', 'pg-b', 'pg-c']) await b.api('PUT', `/api/queues/%2F/${name}`, {});
    const page = await b.json('GET', '/api/queues/%2F?page=1&page_size=2&name=pg-&sort=name&sort_reverse=true&columns=name');
    assert.deepEqual(page.items, [{ name: 'pg-c' }, { name: 'pg-b' }]);
    assert.equal(page.filtered_count, 3);
    assert.equal(page.page_count, 2);
  });

  test('nodes and overview carry the node identity; the header basic() helper matches the real client', async () => {
    const nodes = await b.json<any[]>('GET', '/api/nodes');
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0].running, true);
    assert.ok(nodes[0].mem_used > 0);
    assert.ok(nodes[0].disk_free > 0);
    assert.equal(basic('a', 'b'), 'Basic YTpi');
  });
});
