import { randomUUID } from 'node:crypto';
import { AmqpLink } from './amqp-link.js';
import { resolveConnection, type Connection, type ResolvedConnection } from './connection.js';
import { Job, type JobHost } from './job.js';
import { jobPublishSpec } from './publish-spec.js';
import { StateClient, type RecordOp } from './state-client.js';
import { declareTopology } from './topology.js';
import { dependencies } from './dependencies.js';
import { childKey, dependencyTable, names, parseChildKey, type JobRecord, type JobsOptions, type JobWire } from './types.js';

/** BullMQ's FlowJob: a job and the children it waits for (in any queues). */
export interface FlowJob {
  name: string;
  queueName: string;
  data?: unknown;
  opts?: Omit<JobsOptions, 'parent' | 'hasChildren'>;
  children?: FlowJob[];
}

/** BullMQ's FlowOpts: `queuesOptions` gives each queue's default job options (under each node's own). */
export interface FlowOpts {
  queuesOptions?: Record<string, { defaultJobOptions?: JobsOptions }>;
}

/** BullMQ's NodeOpts for getFlow: the root job, how many levels (default 10) and children per fate (default 20). */
export interface NodeOpts {
  id: string;
  queueName: string;
  depth?: number;
  maxChildren?: number;
}

/** BullMQ's JobNode: the added job and its children's nodes. */
export interface JobNode {
  job: Job;
  children?: JobNode[];
}

/**
 * BullMQ's FlowProducer on a Warren broker. A whole flow is one batch of record operations (the parents
 * in `waiting-children`, their dependency records, the leaves with their messages): one round trip,
 * applied in one turn and made durable by one group commit, so add resolves once all of it is on disk.
 * See flow-deps.ts for how a parent is released or failed.
 */
export class FlowProducer {
  private readonly target: ResolvedConnection;
  private readonly link: AmqpLink;
  private readonly writer: StateClient;
  private readonly hosts = new Map<string, JobHost & { state: StateClient }>();
  private readonly declared = new Map<string, Promise<void>>();

  constructor(readonly opts: { connection?: Connection } = {}) {
    this.target = resolveConnection(opts.connection);
    this.link = new AmqpLink(this.target, 'warren/jobs flow producer');
    this.writer = new StateClient(this.target, 'jobs.flows');
  }

  async add(flow: FlowJob, opts: FlowOpts = {}): Promise<JobNode> {
    const [node] = await this.addFlows([flow], opts);
    return node!;
  }

  addBulk(flows: FlowJob[]): Promise<JobNode[]> {
    return this.addFlows(flows, {});
  }

  /**
   * BullMQ's getFlow: the job and its children (processed, unprocessed, failed and ignored, at most
   * `maxChildren` of each) down to `depth` levels; undefined if the job does not exist. Children
   * removed since are left out.
   */
  async getFlow(opts: NodeOpts): Promise<JobNode | undefined> {
    return this.node(opts.queueName, opts.id, opts.depth ?? 10, opts.maxChildren ?? 20);
  }

  private async node(queue: string, id: string, depth: number, maxChildren: number): Promise<JobNode | undefined> {
    const host = this.hostOf(queue);
    const record = await host.state.get<JobRecord>(id);
    if (record === undefined) return undefined;
    const job = Job.fromRecord(host, record);
    if (depth <= 1 || job.opts.hasChildren !== true) return { job };
    const page = { cursor: 0, count: maxChildren };
    const found = await dependencies(host.state, { id, queue }, job.dependencies, { processed: page, unprocessed: page, failed: page, ignored: page });
    const keys = [...Object.keys(found.processed ?? {}), ...(found.unprocessed ?? []), ...(found.failed ?? []), ...Object.keys(found.ignored ?? {})];
    if (keys.length === 0) return { job };
    const children = await Promise.all(keys.map((key) => parseChildKey(key)).map((child) => this.node(child.queue, child.id, depth - 1, maxChildren)));
    return { job, children: children.filter((child): child is JobNode => child !== undefined) };
  }

  private async addFlows(flows: FlowJob[], opts: FlowOpts): Promise<JobNode[]> {
    const queues = [...new Set(flows.flatMap(queuesOf))];
    const colon = queues.find((queue) => queue.includes(':'));
    if (colon !== undefined) throw new Error(`flow queue names cannot contain ':' (${colon})`);
    await Promise.all(queues.map((queue) => this.declare(queue)));
    const ops: RecordOp[] = [];
    const now = Date.now();
    const nodes = flows.map((flow) => this.build(flow, undefined, ops, now, opts));
    // Puts of ids that exist already are no-ops (ifAbsent), as Queue.add with a known jobId.
    await Promise.all(ops.map((op) => this.writer.run(op)));
    return nodes;
  }

  async close(): Promise<void> {
    this.writer.close();
    for (const host of this.hosts.values()) host.state.close();
    await this.link.close();
  }

  private declare(queue: string): Promise<void> {
    let declared = this.declared.get(queue);
    if (declared === undefined) {
      declared = this.link.ready().then(() => this.link.addSetup((channel, connection) => declareTopology(channel, connection, queue)));
      this.declared.set(queue, declared);
    }
    return declared;
  }

  private hostOf(queue: string): JobHost & { state: StateClient } {
    let host = this.hosts.get(queue);
    if (host === undefined) {
      const state = new StateClient(this.target, names(queue).table);
      host = { name: queue, state, enqueue: () => Promise.reject(new Error('a FlowProducer job cannot be queued again')) };
      this.hosts.set(queue, host);
    }
    return host;
  }

  /** The ops of one node and its subtree (children first; all run in the same turn anyway). */
  private build(flow: FlowJob, parent: { id: string; queue: string } | undefined, ops: RecordOp[], now: number, flowOpts: FlowOpts): JobNode {
    const id = flow.opts?.jobId ?? randomUUID();
    const children = flow.children ?? [];
    const defaults = flowOpts.queuesOptions?.[flow.queueName]?.defaultJobOptions;
    const opts: JobsOptions = { ...defaults, ...flow.opts, jobId: id, ...(parent === undefined ? {} : { parent }), ...(children.length > 0 ? { hasChildren: true } : {}) };
    const job = new Job(this.hostOf(flow.queueName), flow.name, flow.data ?? {}, opts, id, now);
    const table = names(flow.queueName).table;
    const childNodes = children.map((child) => this.build(child, { id, queue: flow.queueName }, ops, now, flowOpts));
    if (childNodes.length > 0) {
      // A parent's delay starts when it leaves waiting-children (flow-deps.ts), as in BullMQ.
      for (const child of childNodes) ops.push({ table: dependencyTable({ id, queue: flow.queueName }), op: 'put', key: childKey(child.job.queueName, child.job.id), tag: 'pending', value: null, ifAbsent: true });
      ops.push({ table, op: 'put', key: id, tag: 'waiting-children', value: job.toRecord(), ifAbsent: true });
      return { job, children: childNodes };
    }
    const delay = Math.max(0, opts.delay ?? 0);
    const record = job.toRecord();
    if (delay > 0) record.delayUntil = now + delay;
    const wire: JobWire = job.toWire();
    ops.push({ table, op: 'put', key: id, tag: delay > 0 ? 'delayed' : 'waiting', value: record, ifAbsent: true, publish: jobPublishSpec(flow.queueName, wire, delay) });
    return { job };
  }
}

function queuesOf(flow: FlowJob): string[] {
  return [flow.queueName, ...(flow.children ?? []).flatMap(queuesOf)];
}
