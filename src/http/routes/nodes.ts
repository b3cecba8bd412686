import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { requireMonitor } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { objectNotFound } from '../errors.js';
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
  };
}

export function registerNodeRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get<{ Querystring: ListQuery }>('/api/nodes', async (request) => {
    requireMonitor(request.managementUser);
    return shapeList([await nodeJson(context)], request.query);
  });
  app.get<{ Params: { node: string }; Querystring: ListQuery }>('/api/nodes/:node', async (request) => {
    requireMonitor(request.managementUser);
    if (request.params.node !== context.nodeName) throw objectNotFound();
    return shapeItem(await nodeJson(context), request.query);
  });
}
