import type { BrokerClusterHooks } from '../broker/broker.js';
import type { MessageHeaderCodec } from '../broker/persistence/message-header.js';
import { DurableStoreAccess } from '../broker/queue/durable-messages.js';
import type { ClusterNode } from './cluster-node.js';

/**
 * What the broker of a cluster node is given (BrokerOptions.cluster): the cluster's definitions, and the
 * placement of queues: replicated queues keep their messages in the replicated store, behind its barrier;
 * a queue owned elsewhere is served from its owner.
 */
export function clusterBrokerHooks(cluster: ClusterNode, headers: () => MessageHeaderCodec, queueMemoryBytes: number): BrokerClusterHooks {
  let replicatedAccess: DurableStoreAccess | undefined;
  return {
    definitions: cluster.definitions,
    loadDefinitions: () => cluster.definitions.load(),
    placement: {
      storeFor: (queueArguments, local) => {
        if (!cluster.isReplicated(queueArguments)) return local;
        replicatedAccess ??= new DurableStoreAccess(cluster.replicated, headers(), queueMemoryBytes, cluster.replicatedBarrier);
        return replicatedAccess;
      },
      remoteOwnerFor: (queue) => cluster.remoteOwnerFor(queue),
    },
  };
}
