import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { PostgresNotFoundError, startThrowawayPostgres, type ThrowawayPostgres } from '../cluster/postgres/index.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number');
  return n;
}

interface DevOptions {
  nodes: number;
  amqpPort: number;
  httpPort: number;
}

/** `warren cluster dev`: a throwaway cluster on this machine, for trying the cluster out. */
export function registerClusterCommand(program: Command): void {
  const cluster = program.command('cluster').description('cluster tools (see README "Cluster")');
  cluster
    .command('dev')
    .description('start a throwaway PostgreSQL and N cluster nodes on consecutive ports; Ctrl-C stops everything and removes their data')
    .option('--nodes <n>', 'how many nodes', positive, 3)
    .option('--amqp-port <port>', 'AMQP port of the first node (the others follow)', port, 5672)
    .option('--http-port <port>', 'management HTTP port of the first node (the others follow)', port, 15672)
    .action(async (options: DevOptions) => {
      await runDevCluster(options);
    });
}

async function runDevCluster(options: DevOptions): Promise<void> {
  let postgres: ThrowawayPostgres;
  try {
    postgres = await startThrowawayPostgres({ database: 'warren' });
  } catch (error) {
    process.stderr.write(`warren cluster dev: ${error instanceof PostgresNotFoundError ? error.message : `cannot start PostgreSQL: ${(error as Error).message}`}\n`);
    process.exitCode = 1;
    return;
  }
  const root = mkdtempSync(join(tmpdir(), 'warren-dev-cluster-'));
  const nodes: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the nodes and PostgreSQL...\n');
    await Promise.all(nodes.map((child) => stopChild(child)));
    await postgres.stop();
    rmSync(root, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  process.stdout.write(`PostgreSQL: ${postgres.url}\n`);
  for (let i = 0; i < options.nodes; i++) {
    const name = `n${i + 1}`;
    const amqp = options.amqpPort + i;
    const http = options.httpPort + i;
    const child = spawn(
      process.execPath,
      [MAIN, 'server', '--cluster', postgres.url, '--node-name', name, '--amqp-port', String(amqp), '--http-port', String(http), '--data-dir', join(root, name)],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    nodes.push(child);
    child.once('exit', (code, signal) => {
      if (!stopping) process.stdout.write(`node ${name} (pid ${child.pid}) exited (${signal ?? code}); the others keep running\n`);
    });
    process.stdout.write(`node ${name}: pid ${child.pid}, amqp://guest:guest@localhost:${amqp}, http://localhost:${http}/\n`);
  }
  process.stdout.write('Ctrl-C stops everything. Try: kill -9 one node\'s pid and watch its queues move (http://localhost:' + options.httpPort + '/).\n');
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
