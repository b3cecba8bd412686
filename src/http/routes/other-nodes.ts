import type { FastifyRequest } from 'fastify';
import type { ManagementContext } from '../context.js';

/** How long a listing waits for another node before leaving its rows out. */
const PEER_TIMEOUT_MS = 2000;

/**
 * Listings that RabbitMQ answers for the whole cluster although each node holds only its own rows
 * (shovels and federation links run on one node each): the other running nodes' rows, asked of their
 * management API with the caller's own credentials (users are cluster-wide) and `local=true`, so the
 * asked node answers for itself only. A node that does not answer in time is left out.
 */
export async function rowsOfOtherNodes(context: ManagementContext, request: FastifyRequest, path: string): Promise<Record<string, unknown>[]> {
  const cluster = context.cluster;
  if (cluster === undefined || isLocalOnly(request)) return [];
  const authorization = request.headers.authorization;
  const peers = cluster.nodes().filter((node) => node.running && node.name !== context.nodeName && node.httpPort !== 0);
  const answers = await Promise.all(
    peers.map(async (node) => {
      try {
        const response = await fetch(`http://${hostForUrl(node.host)}:${node.httpPort}${path}?local=true`, {
          headers: authorization === undefined ? {} : { authorization },
          signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
        });
        if (!response.ok) return [];
        const rows = (await response.json()) as unknown;
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
      } catch {
        return [];
      }
    }),
  );
  return answers.flat();
}

/** `?local=true`: this node's rows only (what other nodes ask for). */
export function isLocalOnly(request: FastifyRequest): boolean {
  return (request.query as Record<string, unknown> | undefined)?.['local'] === 'true';
}

/**
 * Forwards a command about one link to the node that runs it: the first other node that answers 2xx.
 * Returns whether one did.
 */
export async function forwardToOtherNodes(context: ManagementContext, request: FastifyRequest, method: string, path: string): Promise<boolean> {
  const cluster = context.cluster;
  if (cluster === undefined || isLocalOnly(request)) return false;
  const authorization = request.headers.authorization;
  for (const node of cluster.nodes()) {
    if (!node.running || node.name === context.nodeName || node.httpPort === 0) continue;
    try {
      const response = await fetch(`http://${hostForUrl(node.host)}:${node.httpPort}${path}?local=true`, {
        method,
        headers: authorization === undefined ? {} : { authorization },
        signal: AbortSignal.timeout(PEER_TIMEOUT_MS),
      });
      if (response.ok) return true;
    } catch {
      // that node is gone or slow: try the next
    }
  }
  return false;
}

/** An IPv6 literal goes in brackets in a URL. */
function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
