/**
 * Entry point of one load worker, run as a forked child process or as a worker thread. It waits for a
 * 'start' message, connects its clients, reports 'ready', publishes/consumes from 'go' until 'stop',
 * sends a 'final' report and ends. Progress goes to the parent once per report interval.
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerPort, WorkerSpec } from './worker-protocol.js';
import { WorkerRole } from './worker-role.js';

function portOfThisWorker(): WorkerPort | undefined {
  if (!isMainThread && parentPort !== null) {
    const port = parentPort;
    return {
      send: (message) => port.postMessage(message),
      onMessage: (listener) => port.on('message', listener),
      close: () => port.close(),
    };
  }
  if (process.send !== undefined) {
    return {
      send: (message) => process.send?.(message),
      onMessage: (listener) => process.on('message', (m) => listener(m as ToWorker)),
      close: () => process.disconnect(),
    };
  }
  return undefined;
}

class WorkerSession {
  private role: WorkerRole | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly cpuAtStart = process.cpuUsage();

  constructor(private readonly port: WorkerPort) {}

  onMessage(message: ToWorker): void {
    if (message.kind === 'start') void this.start(message.spec);
    else if (message.kind === 'go') this.go();
    else if (message.kind === 'stop') void this.stop();
  }

  private async start(spec: WorkerSpec): Promise<void> {
    this.role = new WorkerRole(spec);
    try {
      await this.role.prepare();
      this.send({ kind: 'ready' });
    } catch (error) {
      this.send({ kind: 'error', message: describe(error) });
      await this.role.close();
      this.port.close();
    }
  }

  private go(): void {
    const role = this.role;
    if (role === undefined) return;
    role.go(() => this.send({ kind: 'done' }));
    const intervalMs = Math.max(100, role.spec.options.reportIntervalS * 1000 || 1000);
    this.tickTimer = setInterval(() => this.tick(role), intervalMs);
  }

  private tick(role: WorkerRole): void {
    if (role.failure !== undefined) {
      this.send({ kind: 'error', message: describe(role.failure) });
      role.failure = undefined;
    }
    this.send({ kind: 'tick', counters: role.counters(), interval: role.takeInterval().snapshot() });
  }

  private async stop(): Promise<void> {
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    const role = this.role;
    if (role !== undefined) {
      role.stopPublishing();
      const cpu = process.cpuUsage(this.cpuAtStart);
      this.send({
        kind: 'final',
        counters: role.counters(),
        latency: role.totalLatency().snapshot(),
        cpuMicros: cpu.user + cpu.system,
      });
      await role.close();
    }
    this.port.close();
  }

  private send(message: FromWorker): void {
    this.port.send(message);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

const port = portOfThisWorker();
if (port !== undefined) {
  const session = new WorkerSession(port);
  port.onMessage((message) => session.onMessage(message));
}
