/** Child processes of the Kafka benchmark: started, waited for by a line they print, stopped by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  /** The match of the line waited for. */
  readonly match: RegExpExecArray;
  stop(): Promise<void>;
}

/** Spawns `command` and resolves once a line of its output matches `ready`. */
export function startProcess(command: string, args: readonly string[], ready: RegExp, options: { cwd?: string; timeoutMs?: number } = {}): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.cwd === undefined ? {} : { cwd: options.cwd }) });
  const lines: string[] = [];
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${command} did not get ready:\n${lines.join('\n')}`));
    }, options.timeoutMs ?? 20_000);
    let done = false;
    const onLine = (line: string): void => {
      if (lines.length < 200) lines.push(line);
      const match = done ? null : ready.exec(line);
      if (match === null) return;
      done = true;
      clearTimeout(timer);
      resolve({ child, pid: child.pid!, match, stop });
    };
    // Keep draining both pipes for the whole run: a full pipe would stall the child.
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`${command} exited (${code}) before it was ready:\n${lines.join('\n')}`));
    });
  });
}

/** Runs a command to its end; rejects on a non-zero exit, with its stderr. */
export function runToEnd(command: string, args: readonly string[], options: { stdout?: 'collect' | 'count-lines'; timeoutMs?: number } = {}): Promise<{ stdout: string; lines: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A client that cannot get through (a broker that lacks an API) would otherwise wait forever.
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    let stdout = '';
    let lines = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (options.stdout === 'count-lines') {
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      } else stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 20_000) stderr += chunk.toString('utf8');
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve({ stdout, lines, seconds });
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}:\n${stderr.slice(-4000)}`));
    });
  });
}
