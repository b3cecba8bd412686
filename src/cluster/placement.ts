import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: a queue goes to the living node whose hash with the queue's
 * key is highest. When a node dies only its queues move, each to the node that ranked second for it; when
 * one joins, only the queues it now ranks first for would move (and they move only on rebalance).
 */
export function rendezvousOwner(queueKey: string, nodes: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const node of nodes) {
    const score = weight(queueKey, node);
    if (score > bestScore || (score === bestScore && best !== undefined && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** 64 bits of SHA-256 over queue and node: stable across processes and versions. */
function weight(queueKey: string, node: string): bigint {
  return createHash('sha256').update(queueKey).update('\u0000').update(node).digest().readBigUInt64BE(0);
}

/** The key a queue is placed by (vhost and name; names are unique per vhost cluster-wide). */
export function placementKey(vhost: string, queue: string): string {
  return JSON.stringify([vhost, queue]);
}
