import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from './clock.js';
import type { GroupErrorName } from './errors.js';
import { Group } from './group.js';
import type {
  GroupDescription,
  GroupListing,
  GroupState,
  JoinRequest,
  JoinResult,
  LeaveResult,
  LeavingMember,
  MemberGeneration,
  SyncRequest,
  SyncResult,
} from './types.js';

export interface CoordinatorOptions {
  readonly clock?: Clock;
  /** group.initial.rebalance.delay.ms (Kafka's default is 3000; Warren's 0: a group forms at its first join). */
  readonly initialRebalanceDelayMs?: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms (Kafka: 6000 and 1800000). */
  readonly minSessionTimeoutMs?: number;
  readonly maxSessionTimeoutMs?: number;
  /** group.max.size (Kafka: unlimited). */
  readonly maxGroupSize?: number;
  /** How member ids are made (tests make them predictable). Kafka's shape: `<client id>-<uuid>`. */
  readonly newMemberId?: (prefix: string) => string;
}

export const DEFAULT_MIN_SESSION_TIMEOUT_MS = 6000;
export const DEFAULT_MAX_SESSION_TIMEOUT_MS = 1_800_000;

/**
 * The group coordinator of one broker: its consumer groups by id. Protocol-neutral (the handlers decode
 * the requests and encode these results); every group's rules are in `Group`. Joins and syncs answer
 * through a callback, possibly much later (when the rebalance completes); the rest answer at once.
 * This broker is the coordinator of every group (one node: FindCoordinator names it).
 */
export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly clock: Clock;
  private readonly minSessionTimeoutMs: number;
  private readonly maxSessionTimeoutMs: number;
  private readonly settings: ConstructorParameters<typeof Group>[1];
  private closed = false;

  constructor(options: CoordinatorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.minSessionTimeoutMs = options.minSessionTimeoutMs ?? DEFAULT_MIN_SESSION_TIMEOUT_MS;
    this.maxSessionTimeoutMs = options.maxSessionTimeoutMs ?? DEFAULT_MAX_SESSION_TIMEOUT_MS;
    this.settings = {
      clock: this.clock,
      initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 0,
      maxSize: options.maxGroupSize ?? Number.MAX_SAFE_INTEGER,
      newMemberId: options.newMemberId ?? ((prefix) => `${prefix}-${randomUUID()}`),
    };
  }

  join(request: JoinRequest, respond: (result: JoinResult) => void): void {
    const refusal = this.joinRefusal(request);
    if (refusal !== undefined) return respond(joinRefused(refusal, request.memberId));
    // A known member id without its group: the group is gone (a broker restart); the client joins anew.
    const group = request.memberId === '' ? this.groupFor(request.groupId) : this.groups.get(request.groupId);
    if (group === undefined) return respond(joinRefused('UNKNOWN_MEMBER_ID', request.memberId));
    group.join(request, respond);
  }

  private joinRefusal(request: JoinRequest): GroupErrorName | undefined {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    if (request.groupId === '') return 'INVALID_GROUP_ID';
    if (request.sessionTimeoutMs < this.minSessionTimeoutMs || request.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return 'INVALID_SESSION_TIMEOUT';
    }
    if (request.protocolType === '' || request.protocols.length === 0) return 'INCONSISTENT_GROUP_PROTOCOL';
    return undefined;
  }

  sync(request: SyncRequest, respond: (result: SyncResult) => void): void {
    const group = this.groups.get(request.groupId);
    if (this.closed) return respond(syncRefused('COORDINATOR_NOT_AVAILABLE'));
    if (request.groupId === '') return respond(syncRefused('INVALID_GROUP_ID'));
    if (group === undefined) return respond(syncRefused('UNKNOWN_MEMBER_ID'));
    group.sync(request, respond);
  }

  heartbeat(request: MemberGeneration): GroupErrorName {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    if (request.groupId === '') return 'INVALID_GROUP_ID';
    return this.groups.get(request.groupId)?.heartbeat(request) ?? 'UNKNOWN_MEMBER_ID';
  }

  leave(groupId: string, members: readonly LeavingMember[]): LeaveResult {
    const refusal: GroupErrorName | undefined = this.closed ? 'COORDINATOR_NOT_AVAILABLE' : groupId === '' ? 'INVALID_GROUP_ID' : undefined;
    if (refusal !== undefined) return { error: refusal, members: members.map((m) => ({ ...m, error: refusal })) };
    const group = this.groups.get(groupId);
    if (group !== undefined) return group.leave(members);
    return { error: 'NONE', members: members.map((m) => ({ ...m, error: 'UNKNOWN_MEMBER_ID' as const })) };
  }

  /**
   * Whether an OffsetCommit naming this member and generation may commit. A commit naming no generation
   * (-1) to a group that does not exist creates it, empty (a consumer that assigns its partitions itself);
   * one naming a generation of a group this broker does not know is from a generation that is over
   * (ILLEGAL_GENERATION: the client joins again).
   */
  checkCommit(request: MemberGeneration): GroupErrorName {
    if (this.closed) return 'COORDINATOR_NOT_AVAILABLE';
    if (request.groupId === '') return 'INVALID_GROUP_ID';
    const group = this.groups.get(request.groupId);
    if (group !== undefined) return group.checkCommit(request);
    if (request.generationId >= 0) return 'ILLEGAL_GENERATION';
    this.groupFor(request.groupId);
    return 'NONE';
  }

  /** A group that does not exist is described as Dead, with no error (Kafka's answer). */
  describe(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    if (group !== undefined) return group.describe();
    return { groupId, state: 'Dead', protocolType: '', protocolName: '', generationId: -1, leaderId: '', members: [] };
  }

  /** Groups this broker knows (those with committed offsets that no member used since a restart are not among them). */
  list(states?: readonly GroupState[], types?: readonly string[]): GroupListing[] {
    const listings: GroupListing[] = [];
    for (const group of this.groups.values()) {
      const protocolType = group.protocolType ?? '';
      if (states !== undefined && states.length !== 0 && !states.includes(group.state)) continue;
      if (types !== undefined && types.length !== 0 && !types.includes(protocolType)) continue;
      listings.push({ groupId: group.groupId, protocolType, state: group.state });
    }
    return listings;
  }

  /** Whether the group exists here (the handlers answer OffsetFetch for unknown groups from the logs anyway). */
  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  /** Stops: every held join and sync is answered COORDINATOR_NOT_AVAILABLE, every timer cancelled. */
  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) group.close();
    this.groups.clear();
  }

  private groupFor(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = new Group(groupId, this.settings);
      this.groups.set(groupId, group);
    }
    return group;
  }
}

function joinRefused(error: GroupErrorName, memberId: string): JoinResult {
  return { error, generationId: -1, protocolType: undefined, protocolName: undefined, leaderId: '', memberId, members: [], skipAssignment: false };
}

function syncRefused(error: GroupErrorName): SyncResult {
  return { error, protocolType: undefined, protocolName: undefined, assignment: Buffer.alloc(0) };
}
