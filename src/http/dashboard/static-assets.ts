import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One file of the dashboard, read once at start (the whole UI is a few dozen kilobytes). */
export interface StaticAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Where the assets live inside the package: served from the source tree, so no build step copies them. */
const ASSETS_IN_PACKAGE = join('src', 'http', 'dashboard', 'assets');

/**
 * Finds the assets folder from this module's location. The compiled module sits somewhere under the
 * package root (dist/src/http/dashboard, or a developer's own outDir), so the first ancestor holding
 * src/http/dashboard/assets/index.html is the package root.
 */
export function findAssetsDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const candidate = join(dir, ASSETS_IN_PACKAGE);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`dashboard assets (${ASSETS_IN_PACKAGE}) not found above ${from}`);
    dir = parent;
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * Every servable file of the folder keyed by its URL path below the mount point ("app.js",
 * "views/queue.js"). Lookups in this map are the only way to reach a file, so no URL can escape the folder.
 */
export function loadAssets(dir: string): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  for (const path of listFiles(dir)) {
    const contentType = CONTENT_TYPES[extname(path)];
    if (contentType === undefined) continue;
    const body = readFileSync(path);
    const etag = `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
    assets.set(relative(dir, path).split(sep).join('/'), { body, contentType, etag });
  }
  return assets;
}
