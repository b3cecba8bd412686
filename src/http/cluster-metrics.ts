import { Counter, Gauge, type Registry } from 'prom-client';
import type { ClusterFigures, ClusterView } from './context.js';

/**
 * A cluster node's own metrics (Warren's; rabbitmq_prometheus has no equivalent of a database-backed
 * cluster): the nodes it sees by state, the queues it owns, failovers and hand-overs it took part in,
 * and the replicated store's group commits. Read from the node on each scrape.
 */
export class ClusterMetrics {
  private readonly nodes: Gauge<'state'>;
  private readonly owned: Gauge;
  private readonly databaseAlarm: Gauge;
  private readonly counters: Record<keyof ClusterFigures, Counter>;

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
      nodesDeclaredDead: counter('warren_cluster_nodes_declared_dead_total', 'Nodes this node declared dead (their queues moved in the same transaction)'),
      queuesTakenOver: counter('warren_cluster_queues_taken_over_total', 'Queues this node took over from a dead node or a hand-over'),
      queuesHandedOver: counter('warren_cluster_queues_handed_over_total', 'Queues this node handed over in a rebalance'),
      replicatedRounds: counter('warren_cluster_replicated_commits_total', "Group commits of replicated queues' messages to PostgreSQL"),
      replicatedRowsWritten: counter('warren_cluster_replicated_rows_written_total', 'Message rows those commits inserted'),
    };
  }

  /** `databaseAlarm`: the broker's resource alarm for the cluster database (the one that blocks publishers). */
  collect(databaseAlarm: boolean): void {
    const nodes = this.cluster.nodes();
    this.nodes.set({ state: 'running' }, nodes.filter((n) => n.running).length);
    this.nodes.set({ state: 'down' }, nodes.filter((n) => !n.running).length);
    this.owned.set(this.cluster.queuesOwned().get(this.nodeName) ?? 0);
    this.databaseAlarm.set(databaseAlarm ? 1 : 0);
    const figures = this.cluster.figures();
    // The node keeps the counts; each scrape copies them in.
    for (const [key, counter] of Object.entries(this.counters) as [keyof ClusterFigures, Counter][]) {
      counter.reset();
      counter.inc(figures[key]);
    }
  }
}
