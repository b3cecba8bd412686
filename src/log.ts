import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogLevel } from './config/types.js';

export type { Logger } from 'pino';

export interface CreateLoggerOptions {
  level: LogLevel;
  /** Human-readable lines instead of JSON. Default: when stdout is a terminal. */
  pretty?: boolean;
  /** File descriptor to write to. Default 1 (stdout). */
  fd?: number;
}

/**
 * A root logger for one server: JSON lines for log collectors, readable colored lines for a terminal.
 * Writes are synchronous so that the last lines before exit (shutdown, fatal errors) are never lost;
 * logging is kept off the per-message paths, so this costs nothing where speed matters.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const fd = options.fd ?? 1;
  const pretty = options.pretty ?? isTerminal(fd);
  const destination: DestinationStream = pretty
    ? pinoPretty({ colorize: true, sync: true, destination: fd, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: fd, sync: true });
  return pino({ level: options.level, base: { pid: process.pid } }, destination);
}

/** For libraries and tests that were given no logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function isTerminal(fd: number): boolean {
  if (fd === 1) return process.stdout.isTTY === true;
  if (fd === 2) return process.stderr.isTTY === true;
  return false;
}
