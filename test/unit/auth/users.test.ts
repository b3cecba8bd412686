import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserRegistry } from '../../../src/auth/index.js';
import { ChannelError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';

const FULL = { configure: '.*', write: '.*', read: '.*' };

function registryWith(name: string, password: string, options?: { loopbackUsers?: string[] }): UserRegistry {
  const registry = new UserRegistry(options);
  registry.addUser(name, password, ['administrator']);
  registry.setPermissions(name, '/', FULL);
  return registry;
}

test('authenticate accepts the right password and returns the user', () => {
  const registry = registryWith('alice', 'wonderland');
  const outcome = registry.authenticate('alice', 'wonderland', '10.1.2.3');
  assert.equal(outcome.ok, true);
  assert.equal(outcome.ok && outcome.user.name, 'alice');
  assert.deepEqual(outcome.ok && outcome.user.tags, ['administrator']);
});

test('wrong password and unknown user give RabbitMQ\'s invalid credentials reason', () => {
  const registry = registryWith('alice', 'wonderland');
  assert.deepEqual(registry.authenticate('alice', 'nope', '127.0.0.1'), { ok: false, reason: "user 'alice' - invalid credentials" });
  assert.deepEqual(registry.authenticate('bob', 'wonderland', '127.0.0.1'), { ok: false, reason: "user 'bob' - invalid credentials" });
});

test('guest is loopback-only by default', () => {
  const registry = registryWith('guest', 'guest');
  assert.equal(registry.authenticate('guest', 'guest', '127.0.0.1').ok, true);
  assert.equal(registry.authenticate('guest', 'guest', '::1').ok, true);
  assert.equal(registry.authenticate('guest', 'guest', '::ffff:127.0.0.1').ok, true);
  assert.deepEqual(registry.authenticate('guest', 'guest', '192.168.1.5'), { ok: false, reason: "user 'guest' can only connect via localhost" });
  // Credentials are checked first: a remote wrong password is just invalid credentials.
  assert.deepEqual(registry.authenticate('guest', 'bad', '192.168.1.5'), { ok: false, reason: "user 'guest' - invalid credentials" });
});

test('loopbackUsers can be emptied or changed', () => {
  const open = registryWith('guest', 'guest', { loopbackUsers: [] });
  assert.equal(open.authenticate('guest', 'guest', '192.168.1.5').ok, true);
  const custom = registryWith('ops', 'pw', { loopbackUsers: ['ops'] });
  assert.equal(custom.authenticate('ops', 'pw', '8.8.8.8').ok, false);
  assert.equal(custom.isLoopbackOnly('ops'), true);
});

test('users imported by hash authenticate; a user without a password cannot log in', () => {
  const registry = new UserRegistry();
  registry.addUserWithHash('imported', 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O'); // RabbitMQ's hash of 'guest'
  assert.equal(registry.authenticate('imported', 'guest', '10.0.0.1').ok, true);
  registry.addUserWithHash('nopass', '');
  assert.equal(registry.authenticate('nopass', '', '127.0.0.1').ok, false);
  amqpThrows(() => registry.addUserWithHash('bad', 'not-a-hash'), RangeError);
  amqpThrows(() => registry.addUser('imported', 'x'), /already exists/);
});

test('changePassword, setTags and deleteUser', () => {
  const registry = registryWith('alice', 'one');
  registry.changePassword('alice', 'two');
  assert.equal(registry.authenticate('alice', 'one', '127.0.0.1').ok, false);
  assert.equal(registry.authenticate('alice', 'two', '127.0.0.1').ok, true);
  registry.setTags('alice', ['management']);
  assert.deepEqual(registry.getUser('alice')?.tags, ['management']);
  assert.equal(registry.deleteUser('alice'), true);
  assert.equal(registry.getUser('alice'), undefined);
  assert.equal(registry.permissions('alice', '/'), undefined);
  assert.equal(registry.deleteUser('alice'), false);
  amqpThrows(() => registry.setPermissions('ghost', '/', FULL), /no such user 'ghost'/);
});

test('vhost access needs a permission row for that vhost', () => {
  const registry = registryWith('alice', 'pw');
  const alice = registry.getUser('alice')!;
  assert.equal(registry.canAccessVhost(alice, '/'), true);
  assert.equal(registry.canAccessVhost(alice, 'other'), false);
  registry.setPermissions('alice', 'other', { configure: '', write: '', read: '' });
  assert.equal(registry.canAccessVhost(alice, 'other'), true);
  registry.clearPermissions('alice', 'other');
  assert.equal(registry.canAccessVhost(alice, 'other'), false);
  registry.clearVhost('/');
  assert.equal(registry.canAccessVhost(alice, '/'), false);
});

function refusal(fn: () => void): ChannelError {
  try {
    fn();
  } catch (thrown) {
    const error = asAmqp(thrown);
    assert.ok(error instanceof ChannelError);
    return error;
  }
  assert.fail('expected a ChannelError');
}

test('authorize refuses with 403 and RabbitMQ\'s exact reply text', () => {
  const registry = new UserRegistry();
  const bob = registry.addUser('bob', 'pw');
  registry.setPermissions('bob', '/', { configure: '^bob-', write: '^bob-', read: '^bob-' });
  const error = refusal(() => registry.authorize(bob, '/', 'write', 'exchange', ''));
  assert.equal(error.replyCode, 403);
  assert.equal(error.message, "write access to exchange 'amq.default' in vhost '/' refused for user 'bob'");
  assert.equal(error.replyText, "ACCESS_REFUSED - write access to exchange 'amq.default' in vhost '/' refused for user 'bob'");
  const queueError = refusal(() => registry.authorize(bob, '/', 'configure', 'queue', 'jobs'));
  assert.equal(queueError.message, "configure access to queue 'jobs' in vhost '/' refused for user 'bob'");
  const otherVhost = refusal(() => registry.authorize(bob, 'v2', 'read', 'queue', 'bob-q'));
  assert.equal(otherVhost.message, "read access to queue 'bob-q' in vhost 'v2' refused for user 'bob'");
  registry.authorize(bob, '/', 'read', 'queue', 'bob-q');
});

test('permission patterns are searched, not anchored', () => {
  const registry = new UserRegistry();
  const carol = registry.addUser('carol', 'pw');
  registry.setPermissions('carol', '/', { configure: 'jobs', write: '^exact$', read: '.*' });
  registry.authorize(carol, '/', 'configure', 'queue', 'jobs');
  registry.authorize(carol, '/', 'configure', 'queue', 'old-jobs-1');
  amqpThrows(() => registry.authorize(carol, '/', 'configure', 'queue', 'job'), ChannelError);
  registry.authorize(carol, '/', 'write', 'exchange', 'exact');
  amqpThrows(() => registry.authorize(carol, '/', 'write', 'exchange', 'exactly'), ChannelError);
  registry.authorize(carol, '/', 'read', 'exchange', '');
});

test('the default exchange is matched under the name amq.default', () => {
  const registry = new UserRegistry();
  const dave = registry.addUser('dave', 'pw');
  registry.setPermissions('dave', '/', { configure: '', write: '^amq\\.default$', read: '' });
  registry.authorize(dave, '/', 'write', 'exchange', '');
  amqpThrows(() => registry.authorize(dave, '/', 'write', 'queue', ''), ChannelError);
});

test('the empty pattern grants nothing, as RabbitMQ\'s ^$ substitution', () => {
  const registry = new UserRegistry();
  const erin = registry.addUser('erin', 'pw');
  registry.setPermissions('erin', '/', { configure: '', write: '', read: '' });
  for (const permission of ['configure', 'write', 'read'] as const) {
    for (const name of ['q', 'amq.gen-abc', 'a']) {
      amqpThrows(() => registry.authorize(erin, '/', permission, 'queue', name), ChannelError);
    }
    amqpThrows(() => registry.authorize(erin, '/', permission, 'exchange', ''), ChannelError);
  }
  assert.deepEqual(registry.listPermissions(), [{ user: 'erin', vhost: '/', configure: '', write: '', read: '' }]);
});

test('an invalid regular expression is refused when set', () => {
  const registry = new UserRegistry();
  registry.addUser('frank', 'pw');
  amqpThrows(() => registry.setPermissions('frank', '/', { configure: '(', write: '.*', read: '.*' }), /invalid regular expression '\('/);
  assert.equal(registry.permissions('frank', '/'), undefined);
});

test('two registries do not share users', () => {
  const a = new UserRegistry();
  const b = new UserRegistry();
  a.addUser('only-a', 'pw');
  assert.equal(b.getUser('only-a'), undefined);
  assert.deepEqual(b.listUsers(), []);
});
