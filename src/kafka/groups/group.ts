import type { Clock } from './clock.js';
import type { GroupErrorName } from './errors.js';
import { Member } from './member.js';
import { canJoin, selectProtocol } from './protocol-selection.js';
import type {
  GroupDescription,
  GroupState,
  JoinRequest,
  JoinResult,
  LeaveResult,
  LeavingMember,
  MemberGeneration,
  SyncRequest,
  SyncResult,
} from './types.js';

export interface GroupSettings {
  readonly clock: Clock;
  /** group.initial.rebalance.delay.ms: an empty group's first rebalance waits this long for more members. */
  readonly initialRebalanceDelayMs: number;
  /** group.max.size. */
  readonly maxSize: number;
  /** A new member's id, from its client id (or group instance id). */
  readonly newMemberId: (prefix: string) => string;
}

type Answer = () => void;

const EMPTY = Buffer.alloc(0);
const noop = (): void => {};

/**
 * One consumer group's membership and rebalance protocol, as the Kafka protocol guide's "group membership
 * API" describes it: members join (PreparingRebalance holds every JoinGroup until all known members have
 * joined again or the rebalance timeout passed), the coordinator picks the protocol and the leader and
 * answers them (CompletingRebalance: the leader, which alone got the member list, computes the assignment
 * and sends it in its SyncGroup), then hands each member its part (Stable). Heartbeats keep members;
 * a member silent for its session timeout is removed, which starts the next rebalance.
 *
 * Answers (the callbacks a join or sync waits on) are always called after the state is updated, so an
 * answer may at once start the next request.
 */
export class Group {
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | undefined;
  protocolName: string | undefined;
  leaderId: string | undefined;
  /** In join order (the first becomes leader when the leader is gone). */
  readonly members = new Map<string, Member>();
  /** Static members: group instance id -> its current member id. */
  private readonly staticIds = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet back (a rebalance waits for them), with their expiry. */
  private readonly pending = new Map<string, () => void>();
  private cancelPhaseTimer: () => void = noop;
  /** In the initial rebalance delay of a group that was empty. */
  private delaying = false;
  private joinedDuringDelay = false;

  constructor(
    readonly groupId: string,
    private readonly settings: GroupSettings,
  ) {}

  // ---- JoinGroup --------------------------------------------------------------------------------

  join(request: JoinRequest, respond: (result: JoinResult) => void): void {
    const answers: Answer[] = [];
    if (this.state === 'Dead') answers.push(() => respond(joinFailure('COORDINATOR_NOT_AVAILABLE', request.memberId)));
    else if (request.memberId === '') this.joinNew(request, respond, answers);
    else this.joinKnown(request, respond, answers);
    for (const run of answers) run();
  }

  private joinNew(request: JoinRequest, respond: (result: JoinResult) => void, answers: Answer[]): void {
    if (!this.accepts(request, undefined)) return reply(answers, respond, joinFailure('INCONSISTENT_GROUP_PROTOCOL', ''));
    const instanceId = request.groupInstanceId;
    const known = instanceId === undefined ? undefined : this.staticIds.get(instanceId);
    if (known !== undefined) return this.replaceStatic(this.members.get(known)!, request, respond, answers);
    if (this.members.size + this.pending.size >= this.settings.maxSize) return reply(answers, respond, joinFailure('GROUP_MAX_SIZE_REACHED', ''));
    const memberId = this.settings.newMemberId(instanceId ?? request.clientId);
    if (request.requireKnownMemberId && instanceId === undefined) {
      // KIP-394: the member must come back with this id, so that a join retried after a lost answer is not a second member.
      this.pending.set(memberId, this.settings.clock.after(request.sessionTimeoutMs, () => this.pendingExpired(memberId)));
      return reply(answers, respond, joinFailure('MEMBER_ID_REQUIRED', memberId));
    }
    this.addMember(memberId, request, respond, answers);
  }

  private joinKnown(request: JoinRequest, respond: (result: JoinResult) => void, answers: Answer[]): void {
    const { memberId } = request;
    const cancelPending = this.pending.get(memberId);
    if (cancelPending !== undefined) {
      if (!this.accepts(request, undefined)) return reply(answers, respond, joinFailure('INCONSISTENT_GROUP_PROTOCOL', memberId));
      cancelPending();
      this.pending.delete(memberId);
      return this.addMember(memberId, request, respond, answers);
    }
    const refusal = this.identify(memberId, request.groupInstanceId);
    if (refusal !== undefined) return reply(answers, respond, joinFailure(refusal, memberId));
    const member = this.members.get(memberId)!;
    if (!this.accepts(request, member)) return reply(answers, respond, joinFailure('INCONSISTENT_GROUP_PROTOCOL', memberId));
    const unchanged = member.offersSameAs(request.protocols);
    if (this.state === 'PreparingRebalance') {
      this.await(member, request, respond, answers);
      this.tryCompleteJoin(answers);
    } else if (this.state === 'CompletingRebalance' && unchanged) {
      // Its answer was lost: the same one again (the leader gets the members again too).
      this.touch(member);
      reply(answers, respond, this.joinResultFor(member, member.memberId === this.leaderId));
    } else if (this.state === 'Stable' && unchanged && member.memberId !== this.leaderId) {
      this.touch(member);
      reply(answers, respond, this.joinResultFor(member, false));
    } else {
      // A leader joining again, or changed offers: a new rebalance (the leader may see new partitions).
      this.await(member, request, respond, answers);
      this.prepareRebalance(answers);
      this.tryCompleteJoin(answers);
    }
  }

  /** The checks every request naming a member makes: a fenced static instance, an unknown member. */
  private identify(memberId: string, groupInstanceId: string | undefined): GroupErrorName | undefined {
    if (groupInstanceId !== undefined) {
      const current = this.staticIds.get(groupInstanceId);
      if (current !== undefined && current !== memberId) return 'FENCED_INSTANCE_ID';
    }
    return this.members.has(memberId) ? undefined : 'UNKNOWN_MEMBER_ID';
  }

  /** A member may join when the group is empty, or it follows the group's protocol type and shares a protocol. */
  private accepts(request: JoinRequest, self: Member | undefined): boolean {
    if (request.protocols.length === 0 || request.protocolType === '') return false;
    const others = [...this.members.values()].filter((m) => m !== self);
    if (others.length === 0) return true;
    return request.protocolType === this.protocolType && canJoin(others, request.protocols);
  }

  private addMember(memberId: string, request: JoinRequest, respond: (result: JoinResult) => void, answers: Answer[]): void {
    const member = new Member(memberId, request.groupInstanceId, request);
    if (this.members.size === 0) this.protocolType = request.protocolType;
    this.members.set(memberId, member);
    if (member.groupInstanceId !== undefined) this.staticIds.set(member.groupInstanceId, memberId);
    if (this.leaderId === undefined) this.leaderId = memberId;
    if (this.delaying) this.joinedDuringDelay = true;
    member.joinWaiter = respond;
    this.prepareRebalance(answers);
    this.tryCompleteJoin(answers);
  }

  /**
   * KIP-345: a static member joining with an empty member id while its instance id is known takes its old
   * place under a new member id (the old one is fenced). A stable group whose protocol would not change is
   * not rebalanced: the member gets the current generation (and a returning leader the members, with
   * skipAssignment: the assignment stands).
   */
  private replaceStatic(old: Member, request: JoinRequest, respond: (result: JoinResult) => void, answers: Answer[]): void {
    const memberId = this.settings.newMemberId(old.groupInstanceId!);
    const member = old.replacedBy(memberId, request);
    this.members.delete(old.memberId);
    old.cancelSession();
    this.dropWaiters(old, 'FENCED_INSTANCE_ID', answers);
    this.members.set(memberId, member);
    this.staticIds.set(old.groupInstanceId!, memberId);
    if (this.leaderId === old.memberId) this.leaderId = memberId;
    const protocolStays = selectProtocol([...this.members.values()]) === this.protocolName;
    if (this.state === 'Stable' && protocolStays) {
      this.touch(member);
      const leader = memberId === this.leaderId;
      reply(answers, respond, { ...this.joinResultFor(member, leader), skipAssignment: leader });
      return;
    }
    member.joinWaiter = respond;
    this.prepareRebalance(answers);
    this.tryCompleteJoin(answers);
  }

  /** A known member's join waits for the rebalance (a sync it still had waiting is over). */
  private await(member: Member, request: JoinRequest, respond: (result: JoinResult) => void, answers: Answer[]): void {
    this.dropWaiters(member, 'REBALANCE_IN_PROGRESS', answers);
    member.update(request);
    this.touch(member);
    member.joinWaiter = respond;
  }

  /**
   * Answers whatever `member` has waiting with `error`. Its session counts from this answer (it was kept
   * alive while it waited), unless it is leaving the group.
   */
  private dropWaiters(member: Member, error: GroupErrorName, answers: Answer[]): void {
    const { joinWaiter, syncWaiter } = member;
    if ((joinWaiter !== undefined || syncWaiter !== undefined) && this.members.get(member.memberId) === member) this.touch(member);
    member.joinWaiter = undefined;
    member.syncWaiter = undefined;
    if (joinWaiter !== undefined) answers.push(() => joinWaiter(joinFailure(error, member.memberId)));
    if (syncWaiter !== undefined) answers.push(() => syncWaiter(syncFailure(error)));
  }

  // ---- the rebalance ----------------------------------------------------------------------------

  /** Starts a rebalance (or keeps the one running): every member must join again. */
  private prepareRebalance(answers: Answer[]): void {
    if (this.state === 'PreparingRebalance') return;
    if (this.state === 'CompletingRebalance') {
      for (const member of this.members.values()) {
        if (member.syncWaiter !== undefined) this.dropWaiters(member, 'REBALANCE_IN_PROGRESS', answers);
      }
    }
    const wasEmpty = this.state === 'Empty';
    this.state = 'PreparingRebalance';
    this.cancelPhaseTimer();
    if (wasEmpty && this.settings.initialRebalanceDelayMs > 0) this.startInitialDelay();
    else this.armJoinDeadline();
  }

  /**
   * group.initial.rebalance.delay.ms: the first rebalance of an empty group waits for more members, again
   * after each delay in which one joined, but never longer than the rebalance timeout in all.
   */
  private startInitialDelay(): void {
    const { clock, initialRebalanceDelayMs: delay } = this.settings;
    const started = clock.now();
    this.delaying = true;
    this.joinedDuringDelay = false;
    const arm = (ms: number): void => {
      this.cancelPhaseTimer = clock.after(ms, () => {
        const late: Answer[] = [];
        const remaining = this.rebalanceTimeout() - (clock.now() - started);
        if (this.joinedDuringDelay && remaining > 0) {
          this.joinedDuringDelay = false;
          arm(Math.min(delay, remaining));
          return;
        }
        this.delaying = false;
        this.armJoinDeadline();
        this.tryCompleteJoin(late);
        for (const run of late) run();
      });
    };
    arm(delay);
  }

  /** Members that have not joined again within the rebalance timeout are left out of the next generation. */
  private armJoinDeadline(): void {
    this.cancelPhaseTimer = this.settings.clock.after(this.rebalanceTimeout(), () => {
      const late: Answer[] = [];
      this.completeJoin(late);
      for (const run of late) run();
    });
  }

  private rebalanceTimeout(): number {
    let timeout = 0;
    for (const member of this.members.values()) timeout = Math.max(timeout, member.rebalanceTimeoutMs);
    return timeout;
  }

  /** Completes the join phase once every member (and every member id handed out) has joined. */
  private tryCompleteJoin(answers: Answer[]): void {
    if (this.state !== 'PreparingRebalance' || this.delaying || this.pending.size !== 0) return;
    for (const member of this.members.values()) if (member.joinWaiter === undefined) return;
    this.completeJoin(answers);
  }

  /** The next generation: who did not join is out; the protocol and leader are chosen; every join is answered. */
  private completeJoin(answers: Answer[]): void {
    this.cancelPhaseTimer();
    this.delaying = false;
    for (const member of [...this.members.values()]) if (member.joinWaiter === undefined) this.remove(member, answers);
    this.generationId++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.protocolName = undefined;
      this.leaderId = undefined;
      return;
    }
    if (this.leaderId === undefined || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value;
    this.protocolName = selectProtocol([...this.members.values()]);
    this.state = 'CompletingRebalance';
    this.cancelPhaseTimer = this.settings.clock.after(this.rebalanceTimeout(), () => this.syncDeadline());
    for (const member of this.members.values()) {
      const waiter = member.joinWaiter!;
      member.joinWaiter = undefined;
      const result = this.joinResultFor(member, member.memberId === this.leaderId);
      answers.push(() => waiter(result));
      this.touch(member);
    }
  }

  private joinResultFor(member: Member, withMembers: boolean): JoinResult {
    const members = withMembers
      ? [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadataFor(this.protocolName) }))
      : [];
    return {
      error: 'NONE',
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leaderId: this.leaderId ?? '',
      memberId: member.memberId,
      members,
      skipAssignment: false,
    };
  }

  /** The leader never sent its assignment within the rebalance timeout: who did not sync is out, and again. */
  private syncDeadline(): void {
    const answers: Answer[] = [];
    for (const member of [...this.members.values()]) if (member.syncWaiter === undefined) this.remove(member, answers);
    this.prepareRebalance(answers);
    this.tryCompleteJoin(answers);
    for (const run of answers) run();
  }

  // ---- SyncGroup --------------------------------------------------------------------------------

  sync(request: SyncRequest, respond: (result: SyncResult) => void): void {
    const answers: Answer[] = [];
    const error = this.syncRefusal(request);
    if (error !== undefined) answers.push(() => respond(syncFailure(error)));
    else {
      const member = this.members.get(request.memberId)!;
      if (this.state === 'Stable') {
        this.touch(member);
        const result = this.syncResult(member);
        answers.push(() => respond(result));
      } else {
        this.dropWaiters(member, 'REBALANCE_IN_PROGRESS', answers);
        this.touch(member);
        member.syncWaiter = respond;
        if (member.memberId === this.leaderId) this.completeSync(request, answers);
      }
    }
    for (const run of answers) run();
  }

  private syncRefusal(request: SyncRequest): GroupErrorName | undefined {
    if (this.state === 'Dead') return 'COORDINATOR_NOT_AVAILABLE';
    const refusal = this.identify(request.memberId, request.groupInstanceId);
    if (refusal !== undefined) return refusal;
    if (request.generationId !== this.generationId) return 'ILLEGAL_GENERATION';
    if (request.protocolType !== undefined && request.protocolType !== this.protocolType) return 'INCONSISTENT_GROUP_PROTOCOL';
    if (request.protocolName !== undefined && request.protocolName !== this.protocolName) return 'INCONSISTENT_GROUP_PROTOCOL';
    if (this.state === 'PreparingRebalance') return 'REBALANCE_IN_PROGRESS';
    return undefined;
  }

  /** The leader's assignment: each member gets its part (none for a member it left out), the group is Stable. */
  private completeSync(request: SyncRequest, answers: Answer[]): void {
    this.cancelPhaseTimer();
    this.cancelPhaseTimer = noop;
    const parts = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
    for (const member of this.members.values()) member.assignment = parts.get(member.memberId) ?? EMPTY;
    this.state = 'Stable';
    for (const member of this.members.values()) {
      const waiter = member.syncWaiter;
      if (waiter === undefined) continue;
      member.syncWaiter = undefined;
      this.touch(member);
      const result = this.syncResult(member);
      answers.push(() => waiter(result));
    }
  }

  private syncResult(member: Member): SyncResult {
    return { error: 'NONE', protocolType: this.protocolType, protocolName: this.protocolName, assignment: member.assignment };
  }

  // ---- Heartbeat, commits -----------------------------------------------------------------------

  /** A heartbeat: keeps the member; REBALANCE_IN_PROGRESS tells it to join again. */
  heartbeat(request: MemberGeneration): GroupErrorName {
    if (this.state === 'Dead') return 'COORDINATOR_NOT_AVAILABLE';
    const refusal = this.identify(request.memberId, request.groupInstanceId);
    if (refusal !== undefined) return refusal;
    if (request.generationId !== this.generationId) return 'ILLEGAL_GENERATION';
    const answers: Answer[] = [];
    this.touch(this.members.get(request.memberId)!);
    return this.state === 'PreparingRebalance' ? 'REBALANCE_IN_PROGRESS' : 'NONE';
  }

  /**
   * May this member commit offsets now? A group without members takes commits from anyone naming no
   * generation (a consumer that assigns itself, or an admin). While the leader's assignment is awaited no
   * one commits; in PreparingRebalance the current generation still may (consumers commit before they
   * give their partitions up). A commit counts as a heartbeat.
   */
  checkCommit(request: MemberGeneration): GroupErrorName {
    if (this.state === 'Dead') return 'COORDINATOR_NOT_AVAILABLE';
    if (request.generationId < 0 && this.state === 'Empty') return 'NONE';
    if (this.state === 'CompletingRebalance') return 'REBALANCE_IN_PROGRESS';
    const refusal = this.identify(request.memberId, request.groupInstanceId);
    if (refusal !== undefined) return refusal;
    if (request.generationId !== this.generationId) return 'ILLEGAL_GENERATION';
    this.touch(this.members.get(request.memberId)!);
    return 'NONE';
  }

  // ---- leaving ----------------------------------------------------------------------------------

  leave(leaving: readonly LeavingMember[]): LeaveResult {
    const answers: Answer[] = [];
    const results = leaving.map((m) => ({ ...m, error: this.leaveOne(m, answers) }));
    if (results.some((r) => r.error === 'NONE')) this.afterDeparture(answers);
    for (const run of answers) run();
    return { error: this.state === 'Dead' ? 'COORDINATOR_NOT_AVAILABLE' : 'NONE', members: results };
  }

  private leaveOne({ memberId, groupInstanceId }: LeavingMember, answers: Answer[]): GroupErrorName {
    if (this.state === 'Dead') return 'COORDINATOR_NOT_AVAILABLE';
    if (groupInstanceId !== undefined) {
      const current = this.staticIds.get(groupInstanceId);
      if (current === undefined) return 'UNKNOWN_MEMBER_ID';
      if (memberId !== '' && memberId !== current) return 'FENCED_INSTANCE_ID';
      this.remove(this.members.get(current)!, answers);
      return 'NONE';
    }
    const cancelPending = this.pending.get(memberId);
    if (cancelPending !== undefined) {
      cancelPending();
      this.pending.delete(memberId);
      return 'NONE';
    }
    const member = this.members.get(memberId);
    if (member === undefined) return 'UNKNOWN_MEMBER_ID';
    this.remove(member, answers);
    return 'NONE';
  }

  /** Someone left (or was dropped): a stable or completing group rebalances, a preparing one may be complete now. */
  private afterDeparture(answers: Answer[]): void {
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.prepareRebalance(answers);
    this.tryCompleteJoin(answers);
  }

  private remove(member: Member, answers: Answer[]): void {
    this.members.delete(member.memberId);
    member.cancelSession();
    this.dropWaiters(member, 'UNKNOWN_MEMBER_ID', answers);
    if (member.groupInstanceId !== undefined && this.staticIds.get(member.groupInstanceId) === member.memberId) {
      this.staticIds.delete(member.groupInstanceId);
    }
    if (this.leaderId === member.memberId) this.leaderId = this.members.keys().next().value;
  }

  // ---- timers -----------------------------------------------------------------------------------

  /** (Re)arms the member's session timeout: at every request of its own, and at every answer to one held. */
  private touch(member: Member): void {
    member.cancelSession();
    member.cancelSession = this.settings.clock.after(member.sessionTimeoutMs, () => this.sessionExpired(member));
  }

  private sessionExpired(member: Member): void {
    if (this.members.get(member.memberId) !== member) return;
    const answers: Answer[] = [];
    if (member.isWaiting) this.touch(member);
    else {
      this.remove(member, answers);
      this.afterDeparture(answers);
    }
    for (const run of answers) run();
  }

  private pendingExpired(memberId: string): void {
    this.pending.delete(memberId);
    const answers: Answer[] = [];
    this.tryCompleteJoin(answers);
    for (const run of answers) run();
  }

  // ---- views, end -------------------------------------------------------------------------------

  describe(): GroupDescription {
    const stable = this.state === 'Stable';
    return {
      groupId: this.groupId,
      state: this.state,
      protocolType: this.protocolType ?? '',
      protocolName: stable ? (this.protocolName ?? '') : '',
      generationId: this.generationId,
      leaderId: this.leaderId ?? '',
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? m.metadataFor(this.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  /** The coordinator stops: every waiting request is answered, timers are cancelled. */
  close(): void {
    const answers: Answer[] = [];
    this.state = 'Dead';
    this.cancelPhaseTimer();
    for (const cancel of this.pending.values()) cancel();
    this.pending.clear();
    for (const member of this.members.values()) {
      this.dropWaiters(member, 'COORDINATOR_NOT_AVAILABLE', answers);
      member.cancelSession();
    }
    for (const run of answers) run();
  }
}

/** An answer given at once (after the state change this request made). */
function reply<R>(answers: Answer[], respond: (result: R) => void, result: R): void {
  answers.push(() => respond(result));
}

function joinFailure(error: GroupErrorName, memberId: string): JoinResult {
  return { error, generationId: -1, protocolType: undefined, protocolName: undefined, leaderId: '', memberId, members: [], skipAssignment: false };
}

function syncFailure(error: GroupErrorName): SyncResult {
  return { error, protocolType: undefined, protocolName: undefined, assignment: EMPTY };
}
