import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterView } from './context.js';

/**
 * A cluster node's own metrics (Warren's; rabbitmq_prometheus has no equivalent of a database-backed
 * cluster): the nodes it sees by state, the queues it owns, failovers and hand-overs it took part in,
 * and the replicated store's group commits. Read from the node on each scrape.
 */
export class ClusterMetrics {
  private readonly nodes: Gauge<'state'>;
  private readonly owned: Gauge;
  private readonly databaseAlarm: Gauge;
  private readonly counters: Record<'declaredDead' | 'takenOver' | 'handedOver' | 'rounds' | 'rows', Counter>;

  constructor(
    private readonly cluster: ClusterView,
    private readonly nodeName: string,
    registry: Registry,
  ) {
    const registers = [registry];
    const counter = (name: string, help: string): Counter => new Counter({ name, help, registers });
    this.nodes = new Gauge({ name: 'warren_cluster_nodes', help: 'Cluster nodes by state (running or down), as this node sees them', labelNames: ['state'], registers });
    this.owned = new Gauge({ name: 'warren_cluster_queues_owned', help: 'Queues this node owns', registers });
    this.databaseAlarm = new Gauge({ name: 'warren_cluster_database_alarm', help: 'Is 1 while the cluster database does not answer (publishers blocked)', registers });
    this.counters = {
      declaredDead: counter('warren_cluster_nodes_declared_dead_total', 'Nodes this node declared dead (their queues moved in the same transaction)'),
      takenOver: counter('warren_cluster_queues_taken_over_total', 'Queues this node took over from a dead node or a hand-over'),
      handedOver: counter('warren_cluster_queues_handed_over_total', 'Queues this node handed over in a rebalance'),
      rounds: counter('warren_cluster_replicated_commits_total', "Group commits of replicated queues' messages to PostgreSQL"),
      rows: counter('warren_cluster_replicated_rows_written_total', 'Message rows those commits inserted'),
    };
  }

  collect(): void {
    const nodes = this.cluster.nodes();
    this.nodes.set({ state: 'running' }, nodes.filter((n) => n.running).length);
    this.nodes.set({ state: 'down' }, nodes.filter((n) => !n.running).length);
    this.owned.set(this.cluster.queuesOwned().get(this.nodeName) ?? 0);
    const figures = this.cluster.figures();
    this.databaseAlarm.set(figures.databaseAvailable ? 0 : 1);
    const values: Record<keyof typeof this.counters, number> = {
      declaredDead: figures.nodesDeclaredDead,
      takenOver: figures.queuesTakenOver,
      handedOver: figures.queuesHandedOver,
      rounds: figures.replicatedRounds,
      rows: figures.replicatedRowsWritten,
    };
    for (const [key, counter] of Object.entries(this.counters) as [keyof typeof values, Counter][]) {
      counter.reset();
      counter.inc(values[key]);
    }
  }
}
