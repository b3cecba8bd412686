/**
 * The group coordinator's rules, one scenario at a time, on a manual clock: joins held until the
 * rebalance completes, the leader and protocol chosen, assignments handed out by SyncGroup, heartbeats,
 * session and rebalance timeouts, LeaveGroup, MEMBER_ID_REQUIRED, static membership, commits' checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/kafka/groups/clock.js';
import { GroupCoordinator, type CoordinatorOptions } from '../../../src/kafka/groups/coordinator.js';
import { selectProtocol } from '../../../src/kafka/groups/protocol-selection.js';
import type { JoinRequest, JoinResult, SyncResult } from '../../../src/kafka/groups/types.js';

const META = Buffer.from('meta');

function setup(options: CoordinatorOptions = {}) {
  const clock = new ManualClock();
  let n = 0;
  const coordinator = new GroupCoordinator({ clock, minSessionTimeoutMs: 10, newMemberId: (prefix) => `${prefix}-${++n}`, ...options });
  return { clock, coordinator };
}

function joinRequest(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    clientId: 'c',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 1000,
    rebalanceTimeoutMs: 2000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: META }],
    requireKnownMemberId: false,
    ...over,
  };
}

/** Not answered yet (a function, so that the compiler does not narrow the box for good). */
function waiting(box: { result?: unknown }): boolean {
  return box.result === undefined;
}

/** Sends a join; the returned box fills when (if) it is answered. */
function join(coordinator: GroupCoordinator, over: Partial<JoinRequest> = {}): { result?: JoinResult } {
  const box: { result?: JoinResult } = {};
  coordinator.join(joinRequest(over), (result) => {
    assert.ok(waiting(box), 'answered twice');
    box.result = result;
  });
  return box;
}

function sync(coordinator: GroupCoordinator, memberId: string, generationId: number, assignments: Array<[string, string]> = []): { result?: SyncResult } {
  const box: { result?: SyncResult } = {};
  coordinator.sync(
    { groupId: 'g', memberId, generationId, assignments: assignments.map(([id, a]) => ({ memberId: id, assignment: Buffer.from(a) })) },
    (result) => {
      assert.ok(waiting(box), 'answered twice');
      box.result = result;
    },
  );
  return box;
}

test('a lone member joins at once, leads, and gets the assignment it sends', () => {
  const { coordinator } = setup();
  const a = join(coordinator, { clientId: 'a' });
  assert.equal(a.result?.error, 'NONE');
  assert.equal(a.result.generationId, 1);
  assert.equal(a.result.memberId, 'a-1');
  assert.equal(a.result.leaderId, 'a-1');
  assert.equal(a.result.protocolName, 'range');
  assert.deepEqual(a.result.members.map((m) => [m.memberId, m.metadata.toString()]), [['a-1', 'meta']]);
  assert.equal(coordinator.describe('g').state, 'CompletingRebalance');
  const s = sync(coordinator, 'a-1', 1, [['a-1', 'p0,p1']]);
  assert.equal(s.result?.error, 'NONE');
  assert.equal(s.result.assignment.toString(), 'p0,p1');
  assert.equal(coordinator.describe('g').state, 'Stable');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'a-1', generationId: 1 }), 'NONE');
});

test('a second member starts a rebalance: the first learns it by heartbeat, both joins are answered together', () => {
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  sync(coordinator, 'a-1', 1, [['a-1', 'all']]);
  const b = join(coordinator, { clientId: 'b' });
  assert.ok(waiting(b), 'held until a joins again');
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'a-1', generationId: 1 }), 'REBALANCE_IN_PROGRESS');
  // The old generation may still commit while preparing (consumers commit before giving partitions up).
  assert.equal(coordinator.checkCommit({ groupId: 'g', memberId: 'a-1', generationId: 1 }), 'NONE');
  const a = join(coordinator, { clientId: 'a', memberId: 'a-1' });
  assert.equal(a.result?.generationId, 2);
  assert.equal(b.result?.generationId, 2);
  assert.equal(a.result.leaderId, 'a-1', 'the leader stays');
  assert.equal(b.result.leaderId, 'a-1');
  assert.deepEqual(a.result.members.map((m) => m.memberId), ['a-1', 'b-2']);
  assert.deepEqual(b.result.members, [], 'only the leader sees the members');
  // Commits wait for the assignment; the follower's sync waits for the leader's.
  assert.equal(coordinator.checkCommit({ groupId: 'g', memberId: 'b-2', generationId: 2 }), 'REBALANCE_IN_PROGRESS');
  const sb = sync(coordinator, 'b-2', 2);
  assert.ok(waiting(sb));
  const sa = sync(coordinator, 'a-1', 2, [['a-1', 'p0'], ['b-2', 'p1'], ['ghost', 'p2']]);
  assert.equal(sa.result?.assignment.toString(), 'p0');
  assert.equal(sb.result?.assignment.toString(), 'p1');
  assert.equal(coordinator.checkCommit({ groupId: 'g', memberId: 'b-2', generationId: 1 }), 'ILLEGAL_GENERATION');
  assert.equal(coordinator.checkCommit({ groupId: 'g', memberId: 'b-2', generationId: 2 }), 'NONE');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'zzz', generationId: 2 }), 'UNKNOWN_MEMBER_ID');
});

test('the protocol is chosen by vote among those every member offers', () => {
  const p = (...names: string[]) => ({ protocols: names.map((name) => ({ name, metadata: META })) });
  assert.equal(selectProtocol([p('range', 'roundrobin'), p('roundrobin', 'range'), p('roundrobin')]), 'roundrobin');
  assert.equal(selectProtocol([p('range', 'roundrobin'), p('roundrobin', 'range')]), 'range', 'a tie goes to the first member');
  assert.equal(selectProtocol([p('range'), p('sticky')]), undefined);
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a', protocols: p('range', 'roundrobin').protocols });
  assert.equal(join(coordinator, { clientId: 'b', protocols: p('sticky').protocols }).result?.error, 'INCONSISTENT_GROUP_PROTOCOL');
  assert.equal(join(coordinator, { clientId: 'b', protocolType: 'connect' }).result?.error, 'INCONSISTENT_GROUP_PROTOCOL');
  assert.equal(join(coordinator, { groupId: 'h', protocols: [] }).result?.error, 'INCONSISTENT_GROUP_PROTOCOL');
});

test('JoinGroup v4+: a first join gets MEMBER_ID_REQUIRED and its id, and the rebalance waits for it to return', () => {
  const { clock, coordinator } = setup();
  const first = join(coordinator, { clientId: 'a', requireKnownMemberId: true });
  assert.equal(first.result?.error, 'MEMBER_ID_REQUIRED');
  assert.equal(first.result.memberId, 'a-1');
  assert.equal(coordinator.describe('g').members.length, 0, 'not a member yet');
  const again = join(coordinator, { clientId: 'a', memberId: 'a-1', requireKnownMemberId: true });
  assert.equal(again.result?.error, 'NONE');
  assert.equal(again.result.memberId, 'a-1');
  // An id handed out and never used expires with the session timeout.
  const lost = join(coordinator, { clientId: 'b', requireKnownMemberId: true });
  clock.advance(1001);
  assert.equal(join(coordinator, { clientId: 'b', memberId: lost.result!.memberId }).result?.error, 'UNKNOWN_MEMBER_ID');
});

test('a member silent for its session timeout is removed and the group rebalances without it', () => {
  const { clock, coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  join(coordinator, { clientId: 'a', memberId: 'a-1' });
  const b = join(coordinator, { clientId: 'b' });
  join(coordinator, { clientId: 'a', memberId: 'a-1' });
  assert.equal(b.result?.generationId, 2);
  sync(coordinator, 'a-1', 2, [['a-1', 'p0'], ['b-2', 'p1']]);
  sync(coordinator, 'b-2', 2);
  for (let t = 0; t < 5; t++) {
    clock.advance(400);
    assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'a-1', generationId: 2 }), t < 2 ? 'NONE' : t === 2 ? 'REBALANCE_IN_PROGRESS' : 'ILLEGAL_GENERATION');
    if (t === 2) {
      assert.deepEqual(coordinator.describe('g').members.map((m) => m.memberId), ['a-1'], 'b expired after 1000 ms');
      const a = join(coordinator, { clientId: 'a', memberId: 'a-1' });
      assert.equal(a.result?.generationId, 3);
      assert.deepEqual(a.result.members.map((m) => m.memberId), ['a-1']);
    }
  }
  // a never synced generation 3 and its heartbeats name generation 2: its session ends 1000 ms after its join's answer.
  clock.advance(300);
  assert.equal(coordinator.describe('g').state, 'Empty');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'b-2', generationId: 2 }), 'UNKNOWN_MEMBER_ID');
});

test('a member whose join is held is not expired; one that does not join again within the rebalance timeout is left out', () => {
  const { clock, coordinator } = setup();
  join(coordinator, { clientId: 'a', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 3000 });
  sync(coordinator, 'a-1', 1, [['a-1', 'x']]);
  const b = join(coordinator, { clientId: 'b', sessionTimeoutMs: 500, rebalanceTimeoutMs: 3000 });
  clock.advance(2999);
  assert.ok(waiting(b), 'b waits (its session timeout is shorter, but it is waiting on us)');
  clock.advance(1);
  assert.equal(b.result?.error, 'NONE');
  assert.equal(b.result.generationId, 2);
  assert.equal(b.result.leaderId, 'b-2', 'the old leader is gone, the first member left leads');
  assert.deepEqual(coordinator.describe('g').members.map((m) => m.memberId), ['b-2']);
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'a-1', generationId: 1 }), 'UNKNOWN_MEMBER_ID');
});

test('a leader that never sends the assignment is removed after the rebalance timeout; the waiting follower joins again', () => {
  const { clock, coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  sync(coordinator, 'a-1', 1, [['a-1', 'x']]);
  const b = join(coordinator, { clientId: 'b', sessionTimeoutMs: 5000 });
  join(coordinator, { clientId: 'a', memberId: 'a-1', sessionTimeoutMs: 5000 });
  assert.equal(b.result?.generationId, 2);
  const sb = sync(coordinator, 'b-2', 2);
  clock.advance(2000);
  assert.equal(sb.result?.error, 'REBALANCE_IN_PROGRESS');
  assert.deepEqual(coordinator.describe('g').members.map((m) => m.memberId), ['b-2']);
  const again = join(coordinator, { clientId: 'b', memberId: 'b-2' });
  assert.equal(again.result?.generationId, 3);
  assert.equal(again.result.leaderId, 'b-2');
});

test('LeaveGroup: the others rebalance; the last one out leaves the group Empty with the next generation', () => {
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  const b = join(coordinator, { clientId: 'b' });
  join(coordinator, { clientId: 'a', memberId: 'a-1' });
  sync(coordinator, 'a-1', 2, [['a-1', 'p0'], ['b-2', 'p1']]);
  sync(coordinator, 'b-2', 2);
  assert.equal(b.result?.generationId, 2);
  const left = coordinator.leave('g', [{ memberId: 'b-2' }, { memberId: 'nobody' }]);
  assert.deepEqual(left.members.map((m) => m.error), ['NONE', 'UNKNOWN_MEMBER_ID']);
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
  assert.equal(join(coordinator, { clientId: 'a', memberId: 'a-1' }).result?.generationId, 3);
  assert.equal(coordinator.leave('g', [{ memberId: 'a-1' }]).members[0]?.error, 'NONE');
  const view = coordinator.describe('g');
  assert.equal(view.state, 'Empty');
  assert.equal(view.generationId, 4);
  assert.deepEqual(coordinator.list(), [{ groupId: 'g', protocolType: 'consumer', state: 'Empty' }]);
  assert.equal(coordinator.leave('nope', [{ memberId: 'x' }]).members[0]?.error, 'UNKNOWN_MEMBER_ID');
});

test('a leaving member with a held join or sync gets its answer; a sync of an old generation is refused', () => {
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  sync(coordinator, 'a-1', 1, [['a-1', 'x']]);
  const b = join(coordinator, { clientId: 'b' });
  assert.equal(sync(coordinator, 'a-1', 1).result?.error, 'REBALANCE_IN_PROGRESS');
  coordinator.leave('g', [{ memberId: 'b-2' }]);
  assert.equal(b.result?.error, 'UNKNOWN_MEMBER_ID');
  const a = join(coordinator, { clientId: 'a', memberId: 'a-1' });
  assert.equal(a.result?.generationId, 2);
  assert.equal(sync(coordinator, 'a-1', 1).result?.error, 'ILLEGAL_GENERATION');
  assert.equal(sync(coordinator, 'b-2', 2).result?.error, 'UNKNOWN_MEMBER_ID');
});

test('joining again unchanged: a follower in a stable group gets the current generation without a rebalance; the leader starts one', () => {
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  const b = join(coordinator, { clientId: 'b' });
  join(coordinator, { clientId: 'a', memberId: 'a-1' });
  sync(coordinator, 'a-1', 2, [['a-1', 'p0'], ['b-2', 'p1']]);
  sync(coordinator, 'b-2', 2);
  assert.equal(b.result?.generationId, 2);
  const again = join(coordinator, { clientId: 'b', memberId: 'b-2' });
  assert.equal(again.result?.generationId, 2);
  assert.equal(coordinator.describe('g').state, 'Stable');
  const changed = join(coordinator, { clientId: 'b', memberId: 'b-2', protocols: [{ name: 'range', metadata: Buffer.from('new topics') }] });
  assert.ok(waiting(changed), 'new metadata: a rebalance');
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
  const leader = join(coordinator, { clientId: 'a', memberId: 'a-1' });
  assert.equal(leader.result?.generationId, 3);
  assert.equal(leader.result.members.find((m) => m.memberId === 'b-2')?.metadata.toString(), 'new topics');
});

test('sessions outside the configured range are refused; an unknown member id with no group is UNKNOWN_MEMBER_ID', () => {
  const { coordinator } = setup({ minSessionTimeoutMs: 100, maxSessionTimeoutMs: 1000 });
  assert.equal(join(coordinator, { sessionTimeoutMs: 99 }).result?.error, 'INVALID_SESSION_TIMEOUT');
  assert.equal(join(coordinator, { sessionTimeoutMs: 1001 }).result?.error, 'INVALID_SESSION_TIMEOUT');
  assert.equal(join(coordinator, { memberId: 'from-before-a-restart' }).result?.error, 'UNKNOWN_MEMBER_ID');
  assert.equal(join(coordinator, { groupId: '' }).result?.error, 'INVALID_GROUP_ID');
  assert.equal(coordinator.describe('g').state, 'Dead', 'no group was made');
});

test('commits: generation -1 into no group or an empty one; a generation of a group not known here is over', () => {
  const { coordinator } = setup();
  assert.equal(coordinator.checkCommit({ groupId: 'new', memberId: '', generationId: -1 }), 'NONE');
  assert.equal(coordinator.describe('new').state, 'Empty');
  assert.equal(coordinator.checkCommit({ groupId: 'other', memberId: 'm', generationId: 4 }), 'ILLEGAL_GENERATION');
  join(coordinator, { groupId: 'new', clientId: 'a' });
  assert.equal(coordinator.checkCommit({ groupId: 'new', memberId: '', generationId: -1 }), 'REBALANCE_IN_PROGRESS');
  sync(coordinator, 'a-1', 1, []);
  coordinator.sync({ groupId: 'new', memberId: 'a-1', generationId: 1, assignments: [] }, () => {});
  assert.equal(coordinator.checkCommit({ groupId: 'new', memberId: '', generationId: -1 }), 'UNKNOWN_MEMBER_ID', 'a group with members');
});

test('the initial rebalance delay gathers members that arrive together into one generation', () => {
  const { clock, coordinator } = setup({ initialRebalanceDelayMs: 300 });
  const a = join(coordinator, { clientId: 'a' });
  clock.advance(200);
  const b = join(coordinator, { clientId: 'b' });
  clock.advance(200);
  assert.ok(waiting(a), 'a member joined during the delay: another delay');
  const c = join(coordinator, { clientId: 'c' });
  clock.advance(499);
  assert.ok(waiting(a), 'c joined in the second delay: a third one');
  clock.advance(1);
  assert.equal(a.result?.generationId, 1);
  assert.equal(b.result?.generationId, 1);
  assert.deepEqual(a.result.members.map((m) => m.memberId), ['a-1', 'b-2', 'c-3']);
  assert.equal(c.result?.leaderId, 'a-1');
});

test('static membership: a member coming back under its instance id takes its place without a rebalance, the old id is fenced', () => {
  const { coordinator } = setup();
  const a = join(coordinator, { clientId: 'a', groupInstanceId: 'host-a' });
  const b = join(coordinator, { clientId: 'b', groupInstanceId: 'host-b' });
  join(coordinator, { clientId: 'a', memberId: a.result!.memberId, groupInstanceId: 'host-a' });
  assert.equal(b.result?.generationId, 2);
  sync(coordinator, 'host-a-1', 2, [['host-a-1', 'p0'], ['host-b-2', 'p1']]);
  sync(coordinator, 'host-b-2', 2);
  // b restarts: it has forgotten its member id, not its instance id.
  const back = join(coordinator, { clientId: 'b', groupInstanceId: 'host-b' });
  assert.equal(back.result?.error, 'NONE');
  assert.equal(back.result.generationId, 2);
  assert.equal(back.result.memberId, 'host-b-3');
  assert.equal(coordinator.describe('g').state, 'Stable');
  assert.equal(sync(coordinator, 'host-b-3', 2).result?.assignment.toString(), 'p1', 'it keeps its assignment');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'host-b-2', generationId: 2, groupInstanceId: 'host-b' }), 'FENCED_INSTANCE_ID');
  // The leader coming back is told the assignment stands (JoinGroup v9's skipAssignment).
  const leader = join(coordinator, { clientId: 'a', groupInstanceId: 'host-a' });
  assert.equal(leader.result?.skipAssignment, true);
  assert.equal(leader.result.leaderId, 'host-a-4');
  assert.deepEqual(leader.result.members.map((m) => m.memberId), ['host-b-3', 'host-a-4']);
  assert.equal(coordinator.describe('g').state, 'Stable');
  // Leaving by instance id (LeaveGroup v3+).
  assert.deepEqual(coordinator.leave('g', [{ memberId: 'host-b-2', groupInstanceId: 'host-b' }]).members[0]?.error, 'FENCED_INSTANCE_ID');
  assert.deepEqual(coordinator.leave('g', [{ memberId: '', groupInstanceId: 'host-b' }]).members[0]?.error, 'NONE');
  assert.equal(coordinator.describe('g').state, 'PreparingRebalance');
});

test('DescribeGroups shows metadata and assignments only while Stable; ListGroups filters by state and type', () => {
  const { coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  let view = coordinator.describe('g');
  assert.equal(view.protocolName, '');
  assert.equal(view.members[0]?.metadata.length, 0);
  sync(coordinator, 'a-1', 1, [['a-1', 'p0']]);
  view = coordinator.describe('g');
  assert.equal(view.state, 'Stable');
  assert.equal(view.protocolName, 'range');
  assert.equal(view.members[0]?.clientId, 'a');
  assert.equal(view.members[0]?.clientHost, '/127.0.0.1');
  assert.equal(view.members[0]?.metadata.toString(), 'meta');
  assert.equal(view.members[0]?.assignment.toString(), 'p0');
  join(coordinator, { groupId: 'h', protocolType: 'connect' });
  assert.deepEqual(coordinator.list(['Stable']).map((g) => g.groupId), ['g']);
  assert.deepEqual(coordinator.list(undefined, ['connect']).map((g) => g.groupId), ['h']);
  assert.equal(coordinator.list().length, 2);
});

test('close answers every held request and leaves no timer behind', () => {
  const { clock, coordinator } = setup();
  join(coordinator, { clientId: 'a' });
  sync(coordinator, 'a-1', 1, [['a-1', 'x']]);
  const b = join(coordinator, { clientId: 'b' });
  coordinator.close();
  assert.equal(b.result?.error, 'COORDINATOR_NOT_AVAILABLE');
  assert.equal(clock.pending, 0);
  assert.equal(join(coordinator, { clientId: 'c' }).result?.error, 'COORDINATOR_NOT_AVAILABLE');
  assert.equal(coordinator.heartbeat({ groupId: 'g', memberId: 'a-1', generationId: 1 }), 'COORDINATOR_NOT_AVAILABLE');
});
