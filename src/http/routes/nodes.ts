import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { requireAdministrator, requireMonitor } from '../auth.js';
import type { ClusterNodeInfo, ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { exchangeTypes } from './overview.js';

/**
 * Free bytes on the data directory's file system (its nearest existing parent while the store has not
 * created it yet); undefined if it cannot be measured.
 */
export async function diskFree(path: string): Promise<number | undefined> {
  for (let current = path; ; current = dirname(current)) {
    try {
      const stats = await statfs(current);
      return stats.bavail * stats.bsize;
    } catch {
      if (dirname(current) === current) return undefined;
    }
  }
}

async function nodeJson(context: ManagementContext): Promise<Record<string, unknown>> {
  const alarms = context.alarms();
  return {
    name: context.nodeName,
    type: 'disc',
    running: true,
    os_pid: String(process.pid),
    mem_used: alarms.memoryUsedBytes,
    mem_limit: alarms.memoryLimitBytes,
    mem_alarm: alarms.memoryAlarm,
    disk_free: (await diskFree(context.dataDir)) ?? 0,
    disk_free_limit: alarms.diskFreeLimitBytes,
    disk_free_alarm: alarms.diskAlarm,
    processors: availableParallelism(),
    uptime: Date.now() - context.startedAt,
    run_queue: 0,
    exchange_types: exchangeTypes(context),
    ...(context.cluster === undefined ? {} : { database_alarm: alarms.databaseAlarm === true }),
  };
}

/** Another cluster node, as this node knows it from the cluster's database (no live figures of its own). */
function peerJson(node: ClusterNodeInfo, owned: number): Record<string, unknown> {
  return { name: node.name, type: 'disc', running: node.running, ...clusterFields(node, owned) };
}

/** Warren's cluster fields on every node of /api/nodes (RabbitMQ has no such fields; tools ignore them). */
function clusterFields(node: ClusterNodeInfo, owned: number): Record<string, unknown> {
  return {
    cluster_state: node.running ? 'running' : 'down',
    incarnation: node.incarnation,
    lease_until: node.leaseUntil.toISOString(),
    joined_at: node.joinedAt.toISOString(),
    host: node.host,
    amqp_port: node.amqpPort,
    http_port: node.httpPort,
    connections: node.connections,
    queues_owned: owned,
    linked: node.linked,
  };
}

/** This node with its live figures, then (in a cluster) every other node. */
async function allNodes(context: ManagementContext): Promise<Record<string, unknown>[]> {
  const self = await nodeJson(context);
  const cluster = context.cluster;
  if (cluster === undefined) return [self];
  const owned = cluster.queuesOwned();
  return cluster.nodes().map((node) => (node.name === context.nodeName ? { ...self, ...clusterFields(node, owned.get(node.name) ?? 0) } : peerJson(node, owned.get(node.name) ?? 0)));
}

export function registerNodeRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/nodes', async (request) => {
    requireMonitor(request.managementUser);
    return shapeList(await allNodes(context), request.query);
  });
  // Warren's: `warren ctl cluster rebalance`. A single broker has nothing to move.
  app.post('/api/cluster/rebalance', async (request) => {
    requireAdministrator(request.managementUser);
    if (context.cluster === undefined) throw badRequest('this broker does not run in a cluster');
    return { moves: await context.cluster.rebalance() };
  });
  app.get<{ Params: { node: string }; Querystring: ListQuery }>('/api/nodes/:node', async (request) => {
    requireMonitor(request.managementUser);
    const node = (await allNodes(context)).find((n) => n['name'] === request.params.node);
    if (node === undefined) throw objectNotFound();
    return shapeItem(node, request.query);
  });
}
