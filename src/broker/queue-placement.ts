import type { FieldTable } from './message.js';
import type { Queue } from './queue/queue.js';
import type { DurableStoreAccess } from './queue/durable-messages.js';
import type { RemoteOwner } from './queue/remote-owner.js';

/**
 * A cluster's say in where a new queue lives (src/cluster implements it; a single broker has none):
 * which store keeps its messages, and whether another node owns it (then the queue is served from there).
 */
export interface QueuePlacement {
  /** The store for a queue declared with these arguments: a replicated store, or `local`. */
  storeFor(queueArguments: FieldTable, local: DurableStoreAccess | undefined): DurableStoreAccess | undefined;
  /** Called once the queue exists: its owner elsewhere, or undefined when this node owns it. */
  remoteOwnerFor(queue: Queue): RemoteOwner | undefined;
}
