import { randomUUID } from 'node:crypto';
import { AmqpLink } from './amqp-link.js';
import { resolveConnection, type Connection, type ResolvedConnection } from './connection.js';
import { Job, type JobHost } from './job.js';
import { jobPublishSpec } from './publish-spec.js';
import { StateClient, type RecordOp } from './state-client.js';
import { declareTopology } from './topology.js';
import { childKey, dependencyTable, names, type JobsOptions, type JobWire } from './types.js';

/** BullMQ's FlowJob: a job and the children it waits for (in any queues). */
export interface FlowJob {
  name: string;
  queueName: string;
  data?: unknown;
  opts?: Omit<JobsOptions, 'parent' | 'hasChildren'>;
  children?: FlowJob[];
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

  async add(flow: FlowJob): Promise<JobNode> {
    const [node] = await this.addBulk([flow]);
    return node!;
  }

  async addBulk(flows: FlowJob[]): Promise<JobNode[]> {
    await Promise.all([...new Set(flows.flatMap(queuesOf))].map((queue) => this.declare(queue)));
    const ops: RecordOp[] = [];
    const now = Date.now();
    const nodes = flows.map((flow) => this.build(flow, undefined, ops, now));
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
  private build(flow: FlowJob, parent: { id: string; queue: string } | undefined, ops: RecordOp[], now: number): JobNode {
    const id = flow.opts?.jobId ?? randomUUID();
    const children = flow.children ?? [];
    const opts: JobsOptions = { ...flow.opts, jobId: id, ...(parent === undefined ? {} : { parent }), ...(children.length > 0 ? { hasChildren: true } : {}) };
    const job = new Job(this.hostOf(flow.queueName), flow.name, flow.data ?? {}, opts, id, now);
    const table = names(flow.queueName).table;
    const childNodes = children.map((child) => this.build(child, { id, queue: flow.queueName }, ops, now));
    if (childNodes.length > 0) {
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
