/**
 * A randomised model test of the group coordinator: simulated consumers that behave as Kafka clients do
 * (join, join again with the id MEMBER_ID_REQUIRED gave, the leader assigns partitions round-robin, sync,
 * heartbeat, rejoin on REBALANCE_IN_PROGRESS / ILLEGAL_GENERATION, start over on UNKNOWN_MEMBER_ID,
 * commit their partitions) start, leave, crash and commit at random, with random network delays on a
 * manual clock. Checked all along: every request is answered once; the members of a generation are the
 * ones its join answers went to, and the leader saw exactly them; a sync hands out what that
 * generation's leader sent; a Stable group's members are its generation's; a partition is committed by
 * one member per generation and only by a member of the current generation. Checked at the end, once
 * the chaos stops: the group settles Stable with exactly the living clients, whose assignments split
 * the partitions.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/kafka/groups/clock.js';
import { GroupCoordinator } from '../../../src/kafka/groups/coordinator.js';
import type { GroupErrorName } from '../../../src/kafka/groups/errors.js';
import type { JoinResult, SyncResult } from '../../../src/kafka/groups/types.js';

const PARTITIONS = 6;
const GROUP = 'g';

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Observed {
  /** Generation -> member ids whose join was answered NONE in it. */
  joined: Map<number, Set<string>>;
  /** Generation -> the member list its leader was given. */
  leaderSaw: Map<number, string[]>;
  /** Generation -> the assignment its leader sent (member id -> partitions). */
  leaderSent: Map<number, Map<string, string>>;
  /** `${generation}/${partition}` -> the member that committed it. */
  committedBy: Map<string, string>;
  sent: number;
  answered: number;
}

class Sim {
  readonly clock = new ManualClock();
  readonly coordinator: GroupCoordinator;
  readonly observed: Observed = { joined: new Map(), leaderSaw: new Map(), leaderSent: new Map(), committedBy: new Map(), sent: 0, answered: 0 };
  readonly clients: SimClient[] = [];
  private lastGeneration = 0;
  private serial = 0;

  constructor(readonly rand: () => number) {
    let n = 0;
    this.coordinator = new GroupCoordinator({
      clock: this.clock,
      minSessionTimeoutMs: 1,
      initialRebalanceDelayMs: rand() < 0.5 ? 0 : 50,
      newMemberId: (prefix) => `${prefix}-m${++n}`,
    });
  }

  /** Something crosses the network: it arrives 0-10 ms later. */
  net(deliver: () => void): void {
    this.clock.after(Math.floor(this.rand() * 11), deliver);
  }

  /** A callback the coordinator must call exactly once. */
  once<R>(what: string, handle: (result: R) => void): (result: R) => void {
    this.observed.sent++;
    let called = false;
    return (result) => {
      assert.ok(!called, `${what} answered twice`);
      called = true;
      this.observed.answered++;
      handle(result);
    };
  }

  start(): SimClient {
    const client = new SimClient(this, `c${++this.serial}`, this.rand() < 0.5);
    this.clients.push(client);
    client.join();
    return client;
  }

  get living(): SimClient[] {
    return this.clients.filter((c) => c.state !== 'crashed' && c.state !== 'left');
  }

  /** What must hold after every step. */
  check(): void {
    const view = this.coordinator.describe(GROUP);
    if (view.state === 'Dead') return;
    assert.ok(view.generationId >= this.lastGeneration, 'generations never go back');
    this.lastGeneration = view.generationId;
    if (view.state === 'Stable') {
      const joined = [...(this.observed.joined.get(view.generationId) ?? [])].sort();
      assert.deepEqual(view.members.map((m) => m.memberId).sort(), joined, 'a Stable group is the generation its joins were answered in');
      const sent = this.observed.leaderSent.get(view.generationId)!;
      for (const m of view.members) assert.equal(m.assignment.toString(), sent.get(m.memberId) ?? '');
    }
    if (view.state === 'Empty') assert.equal(view.members.length, 0);
  }

  /** What must hold over the whole run. */
  checkHistory(): void {
    for (const [generation, saw] of this.observed.leaderSaw) {
      assert.deepEqual([...saw].sort(), [...(this.observed.joined.get(generation) ?? [])].sort(), `generation ${generation}: the leader saw its members`);
    }
  }
}

class SimClient {
  state: 'joining' | 'syncing' | 'stable' | 'crashed' | 'left' = 'joining';
  memberId = '';
  generation = -1;
  assignment: number[] = [];
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  private stopHeartbeat: () => void = () => {};

  constructor(
    private readonly sim: Sim,
    readonly name: string,
    private readonly requireKnownMemberId: boolean,
  ) {
    this.sessionTimeoutMs = 150 + Math.floor(sim.rand() * 150);
    this.rebalanceTimeoutMs = 200 + Math.floor(sim.rand() * 400);
  }

  private get alive(): boolean {
    return this.state !== 'crashed' && this.state !== 'left';
  }

  join(): void {
    this.state = 'joining';
    this.stopHeartbeat();
    const request = {
      groupId: GROUP,
      memberId: this.memberId,
      clientId: this.name,
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: this.sessionTimeoutMs,
      rebalanceTimeoutMs: this.rebalanceTimeoutMs,
      protocolType: 'consumer',
      protocols: [{ name: 'roundrobin', metadata: Buffer.from(this.name) }],
      requireKnownMemberId: this.requireKnownMemberId,
    };
    this.sim.net(() =>
      this.sim.coordinator.join(
        request,
        this.sim.once<JoinResult>(`${this.name} join`, (result) => {
          if (result.error === 'NONE') this.observeJoin(result);
          this.sim.net(() => this.onJoin(result));
        }),
      ),
    );
  }

  /** Recorded when the coordinator answers (the client may be dead by the time it would read it). */
  private observeJoin(result: JoinResult): void {
    const { joined, leaderSaw } = this.sim.observed;
    const members = joined.get(result.generationId) ?? new Set();
    members.add(result.memberId);
    joined.set(result.generationId, members);
    if (result.leaderId === result.memberId) leaderSaw.set(result.generationId, result.members.map((m) => m.memberId));
  }

  private onJoin(result: JoinResult): void {
    if (!this.alive) return;
    if (result.error === 'MEMBER_ID_REQUIRED') {
      this.memberId = result.memberId;
      return this.join();
    }
    if (result.error === 'UNKNOWN_MEMBER_ID') this.forgotten();
    if (result.error !== 'NONE') return this.join();
    this.memberId = result.memberId;
    this.generation = result.generationId;
    this.state = 'syncing';
    const assignments: Array<{ memberId: string; assignment: Buffer }> = [];
    if (result.leaderId === result.memberId) {
      const ids = result.members.map((m) => m.memberId).sort();
      const parts = new Map<string, number[]>(ids.map((id) => [id, []]));
      for (let p = 0; p < PARTITIONS; p++) parts.get(ids[p % ids.length]!)!.push(p);
      for (const [memberId, ps] of parts) assignments.push({ memberId, assignment: Buffer.from(ps.join(',')) });
    }
    const request = { groupId: GROUP, generationId: this.generation, memberId: this.memberId, assignments };
    this.sim.net(() => {
      if (assignments.length !== 0 && !this.sim.observed.leaderSent.has(request.generationId)) {
        this.sim.observed.leaderSent.set(request.generationId, new Map(assignments.map((a) => [a.memberId, a.assignment.toString()])));
      }
      this.sim.coordinator.sync(
        request,
        this.sim.once<SyncResult>(`${this.name} sync`, (result) => {
          if (result.error === 'NONE') {
            const sent = this.sim.observed.leaderSent.get(request.generationId);
            assert.ok(sent !== undefined, 'a sync is answered only after the leader sent the assignment');
            assert.equal(result.assignment.toString(), sent.get(request.memberId) ?? '', 'a member gets what the leader assigned it');
          }
          this.sim.net(() => this.onSync(result));
        }),
      );
    });
  }

  private onSync(result: SyncResult): void {
    if (!this.alive) return;
    if (result.error === 'UNKNOWN_MEMBER_ID') this.forgotten();
    if (result.error !== 'NONE') return this.join();
    const text = result.assignment.toString();
    this.assignment = text === '' ? [] : text.split(',').map(Number);
    this.state = 'stable';
    this.heartbeatLater();
  }

  private heartbeatLater(): void {
    this.stopHeartbeat = this.sim.clock.after(Math.floor(this.sessionTimeoutMs / 3), () => {
      if (this.state !== 'stable') return;
      const request = { groupId: GROUP, generationId: this.generation, memberId: this.memberId };
      this.sim.net(() => {
        const error = this.sim.coordinator.heartbeat(request);
        this.sim.net(() => this.onHeartbeat(error));
      });
      this.heartbeatLater();
    });
  }

  private onHeartbeat(error: GroupErrorName): void {
    if (this.state !== 'stable') return;
    if (error === 'NONE') return;
    if (error === 'UNKNOWN_MEMBER_ID') this.forgotten();
    this.join();
  }

  /**
   * The coordinator no longer knows this member. A client that heartbeats every third of its session and
   * answers within 20 ms is never silent for a session timeout and always joins again within the rebalance
   * timeout (at least 200 ms, past a heartbeat and two trips): it must never be dropped. (Only members held
   * waiting could be, if they were not kept alive.)
   */
  private forgotten(): void {
    assert.fail(`${this.name} (${this.memberId}) was dropped although it never went silent`);
  }

  /** Commits its partitions: allowed only to a member of the current generation, one member per partition and generation. */
  commit(): void {
    if (this.state !== 'stable') return;
    const request = { groupId: GROUP, generationId: this.generation, memberId: this.memberId };
    const partitions = [...this.assignment];
    this.sim.net(() => {
      const error = this.sim.coordinator.checkCommit(request);
      if (error !== 'NONE') return;
      const view = this.sim.coordinator.describe(GROUP);
      assert.equal(view.generationId, request.generationId, 'only the current generation commits');
      assert.ok(view.members.some((m) => m.memberId === request.memberId));
      for (const p of partitions) {
        const key = `${request.generationId}/${p}`;
        const before = this.sim.observed.committedBy.get(key);
        assert.ok(before === undefined || before === request.memberId, `partition ${key} committed by ${before} and ${request.memberId}`);
        this.sim.observed.committedBy.set(key, request.memberId);
      }
    });
  }

  leave(): void {
    if (!this.alive) return;
    const memberId = this.memberId;
    this.state = 'left';
    this.stopHeartbeat();
    if (memberId !== '') this.sim.net(() => this.sim.coordinator.leave(GROUP, [{ memberId }]));
  }

  crash(): void {
    this.state = 'crashed';
    this.stopHeartbeat();
  }
}

function run(seed: number, steps: number): void {
  const rand = random(seed);
  const sim = new Sim(rand);
  const pick = (list: SimClient[]): SimClient | undefined => list[Math.floor(rand() * list.length)];
  sim.start();
  for (let step = 0; step < steps; step++) {
    const dice = rand();
    if (dice < 0.55) sim.clock.advance(1 + Math.floor(rand() * 120));
    else if (dice < 0.67 && sim.living.length < 5) sim.start();
    else if (dice < 0.74) pick(sim.living)?.leave();
    else if (dice < 0.8) pick(sim.living)?.crash();
    else pick(sim.living)?.commit();
    sim.check();
  }
  // The chaos stops: the living settle. Each must be stable in the group's generation, the partitions split among them.
  if (sim.living.length === 0) sim.start();
  for (let t = 0; t < 400; t++) {
    sim.clock.advance(25);
    sim.check();
    if (t % 8 === 0) for (const client of sim.living) client.commit();
  }
  const view = sim.coordinator.describe(GROUP);
  const living = sim.living;
  assert.equal(view.state, 'Stable', `seed ${seed}: settled`);
  assert.deepEqual(view.members.map((m) => m.memberId).sort(), living.map((c) => c.memberId).sort(), `seed ${seed}: the living are the members`);
  const owned = living.flatMap((c) => {
    assert.equal(c.state, 'stable');
    assert.equal(c.generation, view.generationId);
    return c.assignment;
  });
  assert.deepEqual(owned.sort((a, b) => a - b), [...Array(PARTITIONS).keys()], `seed ${seed}: the partitions are split`);
  sim.checkHistory();
  // Nothing is left hanging: whatever reached the coordinator is answered, at the latest when it closes.
  sim.clock.advance(100);
  sim.coordinator.close();
  assert.equal(sim.observed.answered, sim.observed.sent, `seed ${seed}: every join and sync answered`);
  sim.clock.advance(10_000);
}

test('randomised consumers against the coordinator: the invariants hold and the group settles (60 seeds)', () => {
  for (let seed = 1; seed <= 60; seed++) run(seed, 400);
});
