/**
 * Where the links between brokers run (dynamic shovels, federation links). A single broker runs all of
 * its own. In a cluster each one runs on exactly one living node, picked by rendezvous hashing of the
 * link's identity (src/cluster/link-placement.ts), so a message is not moved twice by two nodes and a
 * link whose node died starts again on the node that ranked second for it. RabbitMQ does the same for
 * dynamic shovels; static shovels (config files) run wherever they are configured, as in RabbitMQ.
 */
export interface LinkPlacement {
  /** Whether the link with this identity runs on this node. */
  runsHere(identity: string): boolean;
  /** Calls `listener` when the answers of runsHere may have changed (the living nodes changed). */
  onChange(listener: () => void): () => void;
}

export const RUN_EVERYTHING_HERE: LinkPlacement = {
  runsHere: () => true,
  onChange: () => () => undefined,
};

/** The identity a dynamic shovel is placed by. */
export function shovelIdentity(vhost: string, name: string): string {
  return JSON.stringify(['shovel', vhost, name]);
}
