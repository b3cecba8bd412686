import { execFileSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where PostgreSQL's server programs (initdb, postgres) are, and which version they are. */
export interface PostgresBinaries {
  binDir: string;
  /** [major, minor], e.g. [15, 8]. */
  version: [number, number];
}

/** No PostgreSQL server installed: the message names the package to install. */
export class PostgresNotFoundError extends Error {
  constructor() {
    super(
      'PostgreSQL not found: no directory with both initdb and postgres in PATH or /usr/lib/postgresql/*/bin. ' +
        "Install the server, on Debian: apt-get install postgresql",
    );
    this.name = 'PostgresNotFoundError';
  }
}

let found: PostgresBinaries | undefined;

/**
 * The highest version among PATH and /usr/lib/postgresql/<major>/bin (Debian keeps the server
 * programs there, off PATH). Throws PostgresNotFoundError when there is none. Cached: it runs
 * `postgres --version` once per candidate.
 */
export function findPostgresBinaries(): PostgresBinaries {
  if (found) return found;
  let best: PostgresBinaries | undefined;
  for (const binDir of candidateDirs()) {
    const version = serverVersion(binDir);
    if (version && (!best || compare(version, best.version) > 0)) best = { binDir, version };
  }
  if (!best) throw new PostgresNotFoundError();
  found = best;
  return best;
}

/** Why tests that need PostgreSQL must skip, or false when it is installed. */
export function postgresMissingReason(): string | false {
  try {
    findPostgresBinaries();
    return false;
  } catch (error) {
    if (error instanceof PostgresNotFoundError) return error.message;
    throw error;
  }
}

function candidateDirs(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  try {
    for (const major of readdirSync('/usr/lib/postgresql')) dirs.push(join('/usr/lib/postgresql', major, 'bin'));
  } catch {
    // no Debian-style install
  }
  return [...new Set(dirs)].filter((dir) => executable(join(dir, 'initdb')) && executable(join(dir, 'postgres')));
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** From `postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)`; undefined if it does not run. */
function serverVersion(binDir: string): [number, number] | undefined {
  try {
    const out = execFileSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /\(PostgreSQL\) (\d+)(?:\.(\d+))?/.exec(out);
    return match ? [Number(match[1]), Number(match[2] ?? 0)] : undefined;
  } catch {
    return undefined;
  }
}

function compare(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}
