import type { GroupErrorName } from './errors.js';

/** Kafka's group states (the coordinator's, as DescribeGroups and ListGroups name them). */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** One protocol a member can follow (for consumers: an assignor, such as `range`), with its metadata. */
export interface ProtocolOffer {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinRequest {
  readonly groupId: string;
  /** '' for a first join. */
  readonly memberId: string;
  /** Static membership (KIP-345): the member keeps its place across restarts under this id. */
  readonly groupInstanceId?: string | undefined;
  readonly clientId: string;
  readonly clientHost: string;
  readonly sessionTimeoutMs: number;
  /** How long a rebalance waits for members to join again (JoinGroup v0 has none: the session timeout). */
  readonly rebalanceTimeoutMs: number;
  readonly protocolType: string;
  readonly protocols: readonly ProtocolOffer[];
  /** JoinGroup v4+ (KIP-394): a first join gets MEMBER_ID_REQUIRED with its new id and joins again with it. */
  readonly requireKnownMemberId: boolean;
}

export interface JoinMember {
  readonly memberId: string;
  readonly groupInstanceId: string | undefined;
  readonly metadata: Buffer;
}

export interface JoinResult {
  readonly error: GroupErrorName;
  readonly generationId: number;
  readonly protocolType: string | undefined;
  readonly protocolName: string | undefined;
  readonly leaderId: string;
  readonly memberId: string;
  /** Only the leader gets the members (with their metadata for the chosen protocol): it computes the assignment. */
  readonly members: readonly JoinMember[];
  /** JoinGroup v9 (KIP-814): the leader is told the assignment stands (a static leader came back). */
  readonly skipAssignment: boolean;
}

export interface SyncRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId?: string | undefined;
  /** SyncGroup v5: checked against the group's when given. */
  readonly protocolType?: string | undefined;
  readonly protocolName?: string | undefined;
  /** The leader's assignment (others send none). */
  readonly assignments: ReadonlyArray<{ readonly memberId: string; readonly assignment: Buffer }>;
}

export interface SyncResult {
  readonly error: GroupErrorName;
  readonly protocolType: string | undefined;
  readonly protocolName: string | undefined;
  readonly assignment: Buffer;
}

/** Heartbeats and commits name the member and the generation they believe in. */
export interface MemberGeneration {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId?: string | undefined;
}

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId?: string | undefined;
}

export interface LeaveResult {
  /** The group's error (NONE unless the coordinator or the group id refuses all); each member has its own. */
  readonly error: GroupErrorName;
  readonly members: ReadonlyArray<LeavingMember & { readonly error: GroupErrorName }>;
}

export interface MemberDescription {
  readonly memberId: string;
  readonly groupInstanceId: string | undefined;
  readonly clientId: string;
  readonly clientHost: string;
  /** Only while Stable (Kafka's rule): the metadata for the chosen protocol and the member's assignment. */
  readonly metadata: Buffer;
  readonly assignment: Buffer;
}

export interface GroupDescription {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  /** The chosen protocol while Stable, else ''. */
  readonly protocolName: string;
  readonly generationId: number;
  readonly leaderId: string;
  readonly members: readonly MemberDescription[];
}

export interface GroupListing {
  readonly groupId: string;
  readonly protocolType: string;
  readonly state: GroupState;
}
