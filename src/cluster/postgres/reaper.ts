import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readlinkSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';

/**
 * Finding and ending a throwaway server's processes. PostgreSQL's children call setsid(), so no
 * process group holds them all; what they share is the postgres binary and the data directory as
 * their working directory (the postmaster chdirs there and they inherit it). Matching on both keeps
 * PID reuse and a shell that happens to sit in the directory out.
 */

/** PIDs of live processes running `postgresExe` (a real path) with cwd `dataDir` (a real path). */
export function serverProcesses(dataDir: string, postgresExe: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // not Linux: callers fall back on the postmaster's own exit
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // A zombie's links fail to read, so it counts as gone, as it should.
      if (readlinkSync(`/proc/${entry}/cwd`) === dataDir && readlinkSync(`/proc/${entry}/exe`) === postgresExe) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or not ours to inspect
    }
  }
  return pids;
}

/** SIGKILLs the server's processes until none is left, or `timeoutMs` has passed; true if none is left. */
export function killServerProcessesSync(dataDir: string, postgresExe: string, timeoutMs = 5000): boolean {
  const until = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const pids = serverProcesses(dataDir, postgresExe);
    if (pids.length === 0) return true;
    if (Date.now() > until) return false;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    Atomics.wait(pause, 0, 0, 10); // synchronous sleep: this also runs in 'exit' handlers
  }
}

/** Kills the server's processes and removes its directory, synchronously (for 'exit' handlers). */
export function destroySync(dir: string, dataDir: string, postgresExe: string): void {
  killServerProcessesSync(dataDir, postgresExe);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/*
 * The watchdog: a detached sh whose stdin is a pipe from this process. Nothing is ever written to
 * it; the read returns when the pipe closes, which happens however this process ends, SIGKILL
 * included. It then kills the server's processes (same match as serverProcesses) and removes the
 * directory. `read` is a shell builtin, so killing the sh leaves no child behind. Detached, so that
 * a Ctrl-C to the terminal's process group does not take it down before it has cleaned up.
 */
const WATCHDOG = `
while read -r _; do :; done
for attempt in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
  pids=$(find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$1" 2>/dev/null | cut -d/ -f3)
  live=
  for pid in $pids; do
    if [ "$(readlink "/proc/$pid/exe")" = "$2" ]; then kill -KILL "$pid" 2>/dev/null; live=1; fi
  done
  [ -z "$live" ] && break
  sleep 0.1
done
rm -rf "$3"
`;

/** Starts the watchdog for a server; end its stdin (after cleaning up yourself) to let it go. */
export function startWatchdog(dir: string, dataDir: string, postgresExe: string): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'warren-pg-watchdog', dataDir, postgresExe, dir], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  // Neither the process nor its pipe may keep this process's event loop alive.
  watchdog.unref();
  (watchdog.stdin as unknown as Socket).unref();
  return watchdog;
}
