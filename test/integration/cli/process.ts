import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, found relative to this compiled helper (dist/test/... -> dist/src/cli/main.js). */
export const CLI_PATH = fileURLToPath(new URL('../../../src/cli/main.js', import.meta.url));

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far on stdout and stderr. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** Resolves with the first stdout match of `pattern`, rejects after `timeoutMs` or when the process ends. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL if still running: tests call this in finally so nothing outlives them. */
  kill(): void;
}

/** The environment without WARREN_* variables, so the developer's own settings never leak into a test. */
export function cleanEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('WARREN_')) env[name] = value;
  return { ...env, ...extra };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnvironment()): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const waitForOutput = (pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const match = out.match(pattern);
        if (match !== null) finish(() => resolve(match));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
      const onExit = (): void => finish(() => reject(new Error(`process exited before ${pattern}; stdout:\n${out}\nstderr:\n${err}`)));
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.off('exit', onExit);
        settle();
      };
      child.stdout.on('data', check);
      child.once('exit', onExit);
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForOutput,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface CtlResult {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs `warren ctl --url <url> ...args` to completion. */
export async function runCtl(url: string, ...args: string[]): Promise<CtlResult> {
  const child = runCli(['ctl', '--url', url, ...args]);
  try {
    const code = await child.exited;
    return { code, stdout: child.stdout(), stderr: child.stderr() };
  } finally {
    child.kill();
  }
}

/** Like runCtl, but the command must succeed; returns its output. */
export async function runCtlOk(url: string, ...args: string[]): Promise<string> {
  const result = await runCtl(url, ...args);
  if (result.code !== 0) throw new Error(`warren ctl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
