import type { ProtocolOffer } from './types.js';

/** What the coordinator needs to know of a member to pick the group's protocol. */
export interface ProtocolChooser {
  readonly protocols: readonly ProtocolOffer[];
}

/** The protocol names every one of `members` offers, in the first member's order of preference. */
export function commonProtocols(members: readonly ProtocolChooser[]): string[] {
  const [first, ...rest] = members;
  if (first === undefined) return [];
  return first.protocols
    .map((p) => p.name)
    .filter((name) => rest.every((member) => member.protocols.some((p) => p.name === name)));
}

/** Whether a member offering `offered` could join `members`: at least one protocol all of them share. */
export function canJoin(members: readonly ProtocolChooser[], offered: readonly ProtocolOffer[]): boolean {
  if (members.length === 0) return offered.length !== 0;
  const shared = new Set(commonProtocols(members));
  return offered.some((p) => shared.has(p.name));
}

/**
 * The group's protocol after a rebalance (the protocol guide: "the coordinator chooses a protocol that all
 * members support"): each member votes for its most preferred protocol among those all members share,
 * the most votes win, a tie goes to the earlier in the first member's preference. Undefined when the
 * members share none (joins are refused before that can happen).
 */
export function selectProtocol(members: readonly ProtocolChooser[]): string | undefined {
  const candidates = commonProtocols(members);
  if (candidates.length === 0) return undefined;
  const votes = new Map<string, number>(candidates.map((name) => [name, 0]));
  for (const member of members) {
    const choice = member.protocols.find((p) => votes.has(p.name));
    if (choice !== undefined) votes.set(choice.name, votes.get(choice.name)! + 1);
  }
  let best = candidates[0]!;
  for (const name of candidates) if (votes.get(name)! > votes.get(best)!) best = name;
  return best;
}
