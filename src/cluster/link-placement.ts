import type { LinkPlacement } from '../shovel/placement.js';
import type { ClusterNode } from './cluster-node.js';
import { rendezvousOwner } from './placement.js';

/**
 * Shovels and federation links in a cluster: each runs on the living node that ranks first for its
 * identity, the same rendezvous hashing that places queues. A node that dies takes its links with it;
 * the survivors learn it at their next membership read and the new first starts them.
 */
export function clusterLinkPlacement(node: ClusterNode): LinkPlacement {
  return {
    runsHere: (identity) => rendezvousOwner(identity, node.livingNodes()) === node.nodeName,
    onChange: (listener) => node.onLivingNodesChange(() => listener()),
  };
}
