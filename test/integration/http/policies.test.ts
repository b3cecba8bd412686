import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { startManaged, type ManagedBroker } from './http-helpers.js';

// RabbitMQ's own management CLI, as in rabbitmqadmin.test.ts (Debian's rabbitmq-server package).
const RABBITMQADMIN = ['/usr/bin/rabbitmqadmin', '/usr/sbin/rabbitmqadmin'].find((path) => existsSync(path));
const PYTHON = '/usr/bin/python3';
const noAdmin = RABBITMQADMIN === undefined || !existsSync(PYTHON) ? 'rabbitmqadmin or /usr/bin/python3 not installed' : false;
const run = promisify(execFile);

let b: ManagedBroker & { httpPort: number };
before(async () => {
  b = await startManaged({ listen: true });
  b.broker.addVhost('other');
  b.users.addUser('maker', 'pw', ['policymaker']);
  b.users.setPermissions('maker', 'other', { configure: '.*', write: '.*', read: '.*' });
  b.users.addUser('viewer', 'pw', ['management']);
  b.users.setPermissions('viewer', '/', { configure: '.*', write: '.*', read: '.*' });
});
after(() => b.close());

/** A change (PUT/DELETE answer 201/204 with no body): asserts success. */
async function change(method: 'PUT' | 'DELETE', url: string, body?: unknown): Promise<void> {
  const response = await b.api(method, url, body);
  assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
}

const policyUrl = (vhost: string, name: string): string => `/api/policies/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}`;

test('create, replace, read, list and delete a policy in RabbitMQ JSON', async () => {
  const body = { pattern: '^crud\\.', definition: { 'max-length': 10 }, priority: 3, 'apply-to': 'queues' };
  assert.equal((await b.api('PUT', policyUrl('/', 'crud'), body)).statusCode, 201);
  assert.deepEqual(await b.json('GET', policyUrl('/', 'crud')), {
    vhost: '/',
    name: 'crud',
    pattern: '^crud\\.',
    'apply-to': 'queues',
    definition: { 'max-length': 10 },
    priority: 3,
  });
  // Setting it again replaces it (204), and defaults apply: priority 0, apply-to all.
  assert.equal((await b.api('PUT', policyUrl('/', 'crud'), { pattern: '^crud', definition: { expires: 60000 } })).statusCode, 204);
  const replaced = await b.json('GET', policyUrl('/', 'crud'));
  assert.deepEqual([replaced.pattern, replaced['apply-to'], replaced.priority, replaced.definition], ['^crud', 'all', 0, { expires: 60000 }]);

  await change('PUT', policyUrl('other', 'elsewhere'), { pattern: '.*', definition: { 'alternate-exchange': 'ae' }, 'apply-to': 'exchanges' });
  const all = await b.json<{ vhost: string; name: string }[]>('GET', '/api/policies');
  assert.deepEqual(all.map((p) => [p.vhost, p.name]).sort(), [['/', 'crud'], ['other', 'elsewhere']]);
  const inOther = await b.json<{ name: string }[]>('GET', '/api/policies/other');
  assert.deepEqual(inOther.map((p) => p.name), ['elsewhere']);
  assert.equal(b.broker.getVhost('other')?.policies.get('elsewhere')?.applyTo, 'exchanges');

  assert.equal((await b.api('DELETE', policyUrl('/', 'crud'))).statusCode, 204);
  assert.equal((await b.api('DELETE', policyUrl('/', 'crud'))).statusCode, 404);
  assert.equal((await b.api('GET', policyUrl('/', 'crud'))).statusCode, 404);
  assert.equal((await b.api('GET', '/api/policies/no-such-vhost')).statusCode, 404);
  assert.equal((await b.api('PUT', policyUrl('no-such-vhost', 'p'), body)).statusCode, 404);
  await change('DELETE', policyUrl('other', 'elsewhere'));
  assert.deepEqual(await b.json('GET', '/api/policies'), []);
});

test('invalid policies are 400 bad_request with the reason, and change nothing', async () => {
  const cases: [unknown, RegExp][] = [
    [{ pattern: '.*', definition: { 'max-lenght': 1 } }, /'max-lenght'.*not recognised policy settings/],
    [{ pattern: '.*', definition: { 'message-ttl': -5 } }, /not a valid message TTL/],
    [{ pattern: '.*', definition: {} }, /definition is empty/],
    [{ pattern: '(', definition: { 'max-length': 1 } }, /not a valid regular expression/],
    [{ pattern: '.*', definition: { 'max-length': 1 }, 'apply-to': 'topics' }, /apply-to 'topics'/],
    [{ pattern: '.*', definition: { 'max-length': 1 }, priority: 1.5 }, /priority/],
    [{ definition: { 'max-length': 1 } }, /\{key_missing,pattern\}/],
    [{ pattern: '.*' }, /\{key_missing,definition\}/],
  ];
  for (const [body, reason] of cases) {
    const response = await b.api('PUT', policyUrl('/', 'bad'), body);
    assert.equal(response.statusCode, 400, JSON.stringify(body));
    const answer = response.json();
    assert.equal(answer.error, 'bad_request');
    assert.match(answer.reason, reason);
  }
  assert.equal(b.broker.getVhost('/')?.policies.get('bad'), undefined);
});

test('policymakers change policies of their vhosts; management users cannot touch policies', async () => {
  const body = { pattern: '^m', definition: { 'max-length': 1 } };
  assert.equal((await b.api('PUT', policyUrl('other', 'by-maker'), body, ['maker', 'pw'])).statusCode, 201);
  assert.equal((await b.api('PUT', policyUrl('/', 'by-maker'), body, ['maker', 'pw'])).statusCode, 401, 'no permissions on /');
  const seen = await b.json<{ name: string }[]>('GET', '/api/policies', undefined, ['maker', 'pw']);
  assert.deepEqual(seen.map((p) => p.name), ['by-maker']);
  assert.equal((await b.api('GET', '/api/policies', undefined, ['viewer', 'pw'])).statusCode, 401);
  assert.equal((await b.api('PUT', policyUrl('/', 'by-viewer'), body, ['viewer', 'pw'])).statusCode, 401);
  assert.equal((await b.api('DELETE', policyUrl('other', 'by-maker'), undefined, ['viewer', 'pw'])).statusCode, 401);
  assert.equal((await b.api('DELETE', policyUrl('other', 'by-maker'), undefined, ['maker', 'pw'])).statusCode, 204);
});

test('a policy set over HTTP limits an existing queue and expires messages, observed with amqplib', async () => {
  const connection = await amqp.connect(b.url);
  try {
    const channel = await connection.createChannel();
    await channel.assertQueue('limited.q', { durable: false });
    await channel.assertQueue('ttl.q', { durable: false });
    for (let i = 1; i <= 5; i++) channel.sendToQueue('limited.q', Buffer.from(`m${i}`));
    await channel.checkQueue('limited.q'); // a round trip: the publishes above have been routed
    assert.equal((await channel.checkQueue('limited.q')).messageCount, 5);

    // max-length applies at once to the existing backlog: drop-head keeps the newest two.
    await change('PUT', policyUrl('/', 'limit'), { pattern: '^limited\\.', definition: { 'max-length': 2 }, 'apply-to': 'queues' });
    assert.equal((await channel.checkQueue('limited.q')).messageCount, 2);
    const first = await channel.get('limited.q', { noAck: true });
    assert.equal(first && first.content.toString(), 'm4');
    const queueJson = await b.json('GET', '/api/queues/%2F/limited.q');
    assert.equal(queueJson.policy, 'limit');

    // message-ttl applies to messages enqueued from now on.
    await change('PUT', policyUrl('/', 'ttl'), { pattern: '^ttl\\.', definition: { 'message-ttl': 300 } });
    channel.sendToQueue('ttl.q', Buffer.from('short-lived'));
    assert.equal((await channel.checkQueue('ttl.q')).messageCount, 1);
    await sleep(700);
    assert.equal(await channel.get('ttl.q', { noAck: true }), false, 'the message expired by policy');

    // Deleting the policy lifts the limit for new messages.
    await change('DELETE', policyUrl('/', 'limit'));
    for (let i = 6; i <= 9; i++) channel.sendToQueue('limited.q', Buffer.from(`m${i}`));
    assert.equal((await channel.checkQueue('limited.q')).messageCount, 5);
    await channel.deleteQueue('limited.q');
    await channel.deleteQueue('ttl.q');
  } finally {
    await connection.close();
    await b.api('DELETE', policyUrl('/', 'ttl'));
  }
});

test('definitions export and import policies in RabbitMQ format (round trip)', async () => {
  await change('PUT', policyUrl('other', 'dlx'), {
    pattern: '^work',
    definition: { 'dead-letter-exchange': 'dead', 'max-length-bytes': 1024 },
    priority: 7,
    'apply-to': 'queues',
  });
  const exported = await b.json('GET', '/api/definitions');
  const expected = { vhost: 'other', name: 'dlx', pattern: '^work', 'apply-to': 'queues', definition: { 'dead-letter-exchange': 'dead', 'max-length-bytes': 1024 }, priority: 7 };
  assert.deepEqual(exported.policies, [expected]);
  const perVhost = await b.json('GET', '/api/definitions/other');
  const { vhost: _vhost, ...withoutVhost } = expected;
  assert.deepEqual(perVhost.policies, [withoutVhost]);

  await change('DELETE', policyUrl('other', 'dlx'));
  const imported = await b.api('POST', '/api/definitions', exported);
  assert.equal(imported.statusCode, 204);
  assert.equal(imported.headers['x-warren-skipped'], undefined, 'nothing skipped');
  assert.deepEqual(await b.json('GET', policyUrl('other', 'dlx')), expected);

  // A per-vhost file goes into whichever vhost it is posted to.
  await change('PUT', '/api/vhosts/copy', {});
  assert.equal((await b.api('POST', '/api/definitions/copy', perVhost)).statusCode, 204);
  assert.deepEqual(await b.json('GET', policyUrl('copy', 'dlx')), { ...expected, vhost: 'copy' });
  // Imported before the queues, so a queue in the same file starts under its policy.
  const withQueue = { policies: [{ ...withoutVhost, name: 'cap', definition: { 'max-length': 1 }, priority: 8 }], queues: [{ name: 'work.a', durable: true, auto_delete: false, arguments: {} }] };
  assert.equal((await b.api('POST', '/api/definitions/copy', withQueue)).statusCode, 204);
  assert.equal((await b.json('GET', '/api/queues/copy/work.a')).policy, 'cap');

  // A runtime parameter of a component this broker does not have fails the import before anything is applied.
  const withParameter = { vhosts: [{ name: 'not-made' }], parameters: [{ vhost: '/', component: 'no-such-plugin', name: 'u', value: {} }] };
  const refused = await b.api('POST', '/api/definitions', withParameter);
  assert.equal(refused.statusCode, 400);
  assert.match(refused.json().reason, /component_not_found/);
  assert.equal((await b.api('GET', '/api/vhosts/not-made')).statusCode, 404);
});

test('an invalid policy in a definitions file fails the import before anything is applied', async () => {
  const file = {
    vhosts: [{ name: 'never-created' }],
    policies: [{ vhost: '/', name: 'broken', pattern: '.*', 'apply-to': 'queues', definition: { 'no-such-key': 1 }, priority: 0 }],
  };
  const response = await b.api('POST', '/api/definitions', file);
  assert.equal(response.statusCode, 400);
  assert.match(response.json().reason, /'no-such-key'/);
  assert.equal(b.broker.getVhost('never-created'), undefined);
  assert.equal(b.broker.getVhost('/')?.policies.get('broken'), undefined);
});

test('rabbitmqadmin declares, lists and deletes a policy', { skip: noAdmin }, async () => {
  const admin = async (...args: string[]): Promise<string> =>
    (await run(PYTHON, [RABBITMQADMIN!, '-H', '127.0.0.1', '-P', String(b.httpPort), '-u', 'guest', '-p', 'guest', ...args])).stdout;
  await admin('declare', 'policy', 'name=from-admin', 'pattern=^admin\\.', 'definition={"max-length": 3, "overflow": "reject-publish"}', 'priority=2', 'apply-to=queues');
  const policy = b.broker.getVhost('/')?.policies.get('from-admin');
  assert.deepEqual(policy?.toSpec(), {
    vhost: '/',
    name: 'from-admin',
    pattern: '^admin\\.',
    applyTo: 'queues',
    priority: 2,
    definition: { 'max-length': 3, overflow: 'reject-publish' },
  });
  const listed: { vhost: string; name: string; definition: unknown }[] = JSON.parse(await admin('-f', 'raw_json', 'list', 'policies'));
  assert.deepEqual(listed.find((p) => p.vhost === '/' && p.name === 'from-admin')?.definition, { 'max-length': 3, overflow: 'reject-publish' });
  await admin('delete', 'policy', 'name=from-admin');
  assert.equal(b.broker.getVhost('/')?.policies.get('from-admin'), undefined);
});
