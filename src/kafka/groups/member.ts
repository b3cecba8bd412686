import type { JoinRequest, JoinResult, ProtocolOffer, SyncResult } from './types.js';

const EMPTY = Buffer.alloc(0);

/** One member of a group as the coordinator keeps it: what it offered at its last join, and what waits for it. */
export class Member {
  protocols: readonly ProtocolOffer[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** Its part of the leader's last assignment (opaque to the coordinator). */
  assignment: Buffer = EMPTY;
  /** Its JoinGroup, held until the rebalance completes. */
  joinWaiter: ((result: JoinResult) => void) | undefined;
  /** Its SyncGroup, held until the leader's assignment arrives. */
  syncWaiter: ((result: SyncResult) => void) | undefined;
  /** Cancels the session timer (armed by every heartbeat, join or sync answer, and commit). */
  cancelSession: () => void = () => {};

  constructor(
    readonly memberId: string,
    readonly groupInstanceId: string | undefined,
    request: JoinRequest,
  ) {
    this.protocols = request.protocols;
    this.sessionTimeoutMs = request.sessionTimeoutMs;
    this.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    this.clientId = request.clientId;
    this.clientHost = request.clientHost;
  }

  /** Takes the offers and timeouts of a later JoinGroup. */
  update(request: JoinRequest): void {
    this.protocols = request.protocols;
    this.sessionTimeoutMs = request.sessionTimeoutMs;
    this.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
    this.clientId = request.clientId;
    this.clientHost = request.clientHost;
  }

  /** A static member's new incarnation takes this one's place (and assignment) under a new member id. */
  replacedBy(memberId: string, request: JoinRequest): Member {
    const next = new Member(memberId, this.groupInstanceId, request);
    next.assignment = this.assignment;
    return next;
  }

  metadataFor(protocolName: string | undefined): Buffer {
    return this.protocols.find((p) => p.name === protocolName)?.metadata ?? EMPTY;
  }

  /** Same protocols with the same metadata, in the same order (then a join changes nothing). */
  offersSameAs(protocols: readonly ProtocolOffer[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((p, i) => p.name === this.protocols[i]!.name && p.metadata.equals(this.protocols[i]!.metadata))
    );
  }

  /** A member with a request held by the coordinator is alive by definition: its session timer waits. */
  get isWaiting(): boolean {
    return this.joinWaiter !== undefined || this.syncWaiter !== undefined;
  }
}
