import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardPlugin } from './registration.js';
import { findAssetsDir, loadAssets, type StaticAsset } from './static-assets.js';

export interface DashboardOptions {
  /** Folder of index.html, app.js, ...; default the package's src/http/dashboard/assets. */
  assetsDir?: string;
}

/**
 * The page only talks to its own origin; no inline script or style, so a stored queue name or message
 * body that slipped into the DOM as markup still could not run.
 */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

function send(request: FastifyRequest, reply: FastifyReply, asset: StaticAsset): FastifyReply {
  // Revalidate every time: the files are tiny, and an upgraded broker must never run yesterday's app.js.
  void reply.headers(SECURITY_HEADERS).header('cache-control', 'no-cache').header('etag', asset.etag);
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  return reply.type(asset.contentType).send(asset.body);
}

/**
 * Serves the web dashboard: the page at `/` and `/dashboard/`, its files under `/dashboard/`. The page
 * then calls /api with the user's credentials like any other client (see registration.ts).
 */
export function dashboardPlugin(options: DashboardOptions = {}): DashboardPlugin {
  const assets = loadAssets(options.assetsDir ?? findAssetsDir());
  const index = assets.get('index.html');
  if (index === undefined) throw new Error('dashboard assets have no index.html');
  return async (app) => {
    app.get('/', (request, reply) => send(request, reply, index));
    app.get('/dashboard', (_request, reply) => reply.redirect('/dashboard/'));
    app.get('/dashboard/', (request, reply) => send(request, reply, index));
    app.get<{ Params: { '*': string } }>('/dashboard/*', (request, reply) => {
      const asset = assets.get(request.params['*']);
      if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      return send(request, reply, asset);
    });
  };
}

/**
 * The dashboard, or undefined (reported through `onMissing`) when its assets are not installed: the
 * management API must still start without them.
 */
export function dashboardIfInstalled(onMissing: (error: Error) => void, options: DashboardOptions = {}): DashboardPlugin | undefined {
  try {
    return dashboardPlugin(options);
  } catch (error) {
    onMissing(error as Error);
    return undefined;
  }
}
