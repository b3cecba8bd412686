import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChannelError } from '../../../src/amqp/errors.js';
import { amqpThrows, asAmqp } from '../../helpers/amqp-errors.js';
import type { FieldTable } from '../../../src/broker/message.js';
import {
  Policy,
  resolveExchangeSettings,
  resolveQueueSettings,
  VHostPolicies,
  type PolicyChange,
  type PolicyTarget,
} from '../../../src/broker/policies/index.js';
import { declareExchange, declareQueue, message, owner, startedVhost } from './fakes.js';

const me = owner();

/** A queue stand-in that records every policy it is told about. */
class RecordingTarget implements PolicyTarget {
  readonly kind = 'queue' as const;
  readonly applied: (string | undefined)[] = [];
  readonly arguments: FieldTable = {};
  constructor(readonly name: string) {}
  applyPolicy(policy: Policy | undefined): void {
    this.applied.push(policy?.name);
  }
}

function policiesOver(queues: RecordingTarget[]) {
  const map = new Map(queues.map((q) => [q.name, q]));
  const policies = new VHostPolicies('/', { queues: map, exchanges: new Map() });
  for (const q of queues) policies.attach(q);
  return policies;
}

function refused(fn: () => unknown, pattern: RegExp): void {
  amqpThrows(fn, (thrown: unknown) => {
      const err = asAmqp(thrown);
    assert.ok(err instanceof ChannelError, String(err));
    assert.equal(err.replyCode, 406);
    assert.match(err.message, pattern);
    return true;
  });
}

test('validation: unknown keys, bad values, bad patterns and apply-to are refused with clear texts', () => {
  const policies = policiesOver([]);
  refused(() => policies.set('p', { pattern: '.*', definition: { 'max-priority': 10 } }), /'max-priority' are not recognised policy settings/);
  refused(() => policies.set('p', { pattern: '.*', definition: { 'message-ttl': -1 } }), /-1 is not a valid message TTL.*'message-ttl'/);
  refused(() => policies.set('p', { pattern: '.*', definition: { expires: 0 } }), /not a valid queue expiry/);
  refused(() => policies.set('p', { pattern: '.*', definition: { 'max-length': 1.5 } }), /not a valid maximum length/);
  refused(() => policies.set('p', { pattern: '.*', definition: { overflow: 'drop-tail' } }), /"drop-tail" is not a valid overflow value/);
  refused(() => policies.set('p', { pattern: '.*', definition: { 'alternate-exchange': 5 } }), /not a valid alternate exchange name/);
  refused(() => policies.set('p', { pattern: '.*', definition: {} }), /definition is empty/);
  refused(() => policies.set('p', { pattern: '(', definition: { 'max-length': 1 } }), /pattern "\(" is not a valid regular expression/);
  refused(() => policies.set('p', { pattern: '.*', applyTo: 'bindings' as never, definition: { 'max-length': 1 } }), /apply-to 'bindings'/);
  refused(() => policies.set('p', { pattern: '.*', priority: 1.5, definition: { 'max-length': 1 } }), /priority 1.5 is not an integer/);
  refused(() => policies.set('', { pattern: '.*', definition: { 'max-length': 1 } }), /needs a name/);
  assert.equal(policies.size, 0, 'nothing invalid was stored');
});

test('the highest-priority matching policy applies; apply-to filters; ties go to the first name', () => {
  const policies = policiesOver([]);
  policies.set('all-low', { pattern: '.*', priority: 0, definition: { 'max-length': 100 } });
  policies.set('jobs-high', { pattern: '^jobs\\.', priority: 5, applyTo: 'queues', definition: { 'max-length': 10 } });
  policies.set('ex-only', { pattern: '^jobs\\.', priority: 9, applyTo: 'exchanges', definition: { 'alternate-exchange': 'ae' } });
  policies.set('b-tie', { pattern: '^tie', priority: 3, definition: { expires: 5 } });
  policies.set('a-tie', { pattern: '^tie', priority: 3, definition: { expires: 6 } });
  policies.set('quorum', { pattern: '^jobs\\.', priority: 20, applyTo: 'quorum_queues', definition: { 'delivery-limit': 3 } });
  assert.equal(policies.effectiveFor('queue', 'jobs.a')?.name, 'jobs-high');
  assert.equal(policies.effectiveFor('queue', 'jobs.a', 'quorum')?.name, 'quorum');
  assert.equal(policies.effectiveFor('exchange', 'jobs.a')?.name, 'ex-only');
  assert.equal(policies.effectiveFor('queue', 'other')?.name, 'all-low');
  assert.equal(policies.effectiveFor('queue', 'tie-1')?.name, 'a-tie');
  assert.equal(policies.effectiveFor('queue', 'xjobs.a')?.name, 'all-low', 'anchored pattern');
  assert.deepEqual(policies.list().map((p) => p.name), ['a-tie', 'all-low', 'b-tie', 'ex-only', 'jobs-high', 'quorum']);
  assert.deepEqual(policies.get('jobs-high')!.toSpec(), {
    vhost: '/',
    name: 'jobs-high',
    pattern: '^jobs\\.',
    applyTo: 'queues',
    priority: 5,
    definition: { 'max-length': 10 },
  });
  assert.equal(policies.delete('all-low'), true);
  assert.equal(policies.delete('all-low'), false);
  assert.equal(policies.effectiveFor('queue', 'other'), undefined);
});

test('targets hear about a policy only when the one that applies to them changes', () => {
  const jobs = new RecordingTarget('jobs.1');
  const other = new RecordingTarget('other');
  const policies = policiesOver([jobs, other]);
  const changes: PolicyChange[] = [];
  const unsubscribe = policies.onChange((c) => changes.push(c));
  policies.set('jobs', { pattern: '^jobs', definition: { 'message-ttl': 1000 } });
  policies.set('low', { pattern: '.*', priority: -1, definition: { 'max-length': 5 } });
  policies.set('jobs', { pattern: '^jobs', definition: { 'message-ttl': 2000 } }); // replaced: re-applied
  policies.delete('jobs');
  policies.delete('low');
  unsubscribe();
  policies.set('late', { pattern: '.*', definition: { 'max-length': 1 } });
  assert.deepEqual(jobs.applied, ['jobs', 'jobs', 'low', undefined, 'late']);
  assert.deepEqual(other.applied, ['low', undefined, 'late']);
  assert.deepEqual(
    changes.map((c) => (c.kind === 'set' ? `set ${c.policy.name}` : `deleted ${c.name}`)),
    ['set jobs', 'set low', 'set jobs', 'deleted jobs', 'deleted low'],
  );
  const fresh = new RecordingTarget('jobs.2');
  policies.attach(fresh);
  assert.deepEqual(fresh.applied, ['late'], 'a new target gets the policy at once');
});

test("queue settings: the lower value wins for limits, the queue's argument wins for the rest", () => {
  const policy = new Policy('/', 'p', '.*', {
    pattern: '.*',
    definition: {
      'message-ttl': 5000,
      'max-length': 10,
      'max-length-bytes': 1000,
      expires: 60_000,
      'delivery-limit': 4,
      overflow: 'reject-publish',
      'dead-letter-exchange': 'policy-dlx',
      'dead-letter-routing-key': 'policy-rk',
    },
  });
  const args: FieldTable = {
    'x-message-ttl': 1000,
    'x-max-length': 50,
    'x-expires': 30_000,
    'x-overflow': 'drop-head',
    'x-dead-letter-exchange': 'arg-dlx',
  };
  const s = resolveQueueSettings(args, policy);
  assert.equal(s.policy, 'p');
  assert.equal(s.messageTtl, 1000, 'argument lower');
  assert.equal(s.maxLength, 10, 'policy lower');
  assert.equal(s.maxLengthBytes, 1000, 'policy only');
  assert.equal(s.expires, 30_000);
  assert.equal(s.deliveryLimit, 4);
  assert.equal(s.overflow, 'drop-head', 'argument wins');
  assert.equal(s.deadLetterExchange, 'arg-dlx', 'argument wins');
  assert.equal(s.deadLetterRoutingKey, 'policy-rk', 'policy fills what the arguments leave out');
  const none = resolveQueueSettings(args, undefined);
  assert.equal(none.maxLength, 50);
  assert.equal(none.policy, undefined);
  assert.equal(resolveExchangeSettings({ 'alternate-exchange': 'mine' }, policy).alternateExchange, 'mine');
});

test('in a vhost: a policy alternate-exchange applies to existing and new exchanges, and goes away on delete', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    declareQueue(vhost, 'ae-q', me);
    declareExchange(vhost, 'ae', 'fanout');
    vhost.bindQueue('ae-q', 'ae', '', {}, me);
    declareExchange(vhost, 'orders', 'direct');
    declareExchange(vhost, 'own-ae', 'direct', { arguments: { 'alternate-exchange': 'nowhere' } });
    assert.equal(vhost.publish(message('orders', 'k')).routed, 0);
    vhost.policies.set('ae', { pattern: '^(orders|own-ae|late)$', applyTo: 'exchanges', definition: { 'alternate-exchange': 'ae' } });
    assert.equal(vhost.publish(message('orders', 'k')).routed, 1);
    assert.equal(vhost.publish(message('own-ae', 'k')).routed, 0, "the exchange's own argument wins");
    declareExchange(vhost, 'late', 'topic');
    assert.equal(vhost.publish(message('late', 'k')).routed, 1, 'declared after the policy');
    assert.equal(vhost.getQueue('ae-q')!.readyCount(), 2);
    vhost.policies.delete('ae');
    assert.equal(vhost.publish(message('orders', 'k')).routed, 0);
    assert.equal(vhost.publish(message('late', 'k')).routed, 0);
    assert.equal(vhost.getExchange('orders')!.alternateExchange, undefined);
  } finally {
    await broker.stop();
  }
});
