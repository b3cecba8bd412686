import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerSpec } from './worker-protocol.js';

const WORKER_MODULE = new URL('./worker.js', import.meta.url);
const EXIT_GRACE_MS = 5000;

/** The parent's handle on one worker, hiding whether it is a process or a thread. */
export class WorkerHandle {
  private listener: ((message: FromWorker) => void) | undefined;
  private readonly exited: Promise<void>;
  private exitedFlag = false;

  private constructor(
    readonly spec: WorkerSpec,
    private readonly post: (message: ToWorker) => void,
    private readonly kill: () => void,
    subscribe: (deliver: (message: FromWorker) => void, onExit: () => void) => void,
  ) {
    let markExited: () => void = () => undefined;
    this.exited = new Promise<void>((resolve) => (markExited = resolve));
    subscribe(
      (message) => this.listener?.(message),
      () => {
        this.exitedFlag = true;
        markExited();
      },
    );
  }

  static spawn(spec: WorkerSpec, mode: 'process' | 'thread'): WorkerHandle {
    return mode === 'thread' ? WorkerHandle.spawnThread(spec) : WorkerHandle.spawnProcess(spec);
  }

  private static spawnProcess(spec: WorkerSpec): WorkerHandle {
    // execArgv [] so a parent run under --test or --cpu-prof does not make every worker do the same.
    const child: ChildProcess = fork(WORKER_MODULE, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new WorkerHandle(
      spec,
      (message) => {
        if (child.connected) child.send(message);
      },
      () => child.kill('SIGKILL'),
      (deliver, onExit) => {
        child.on('message', (m) => deliver(m as FromWorker));
        child.once('exit', onExit);
        child.once('error', onExit);
      },
    );
  }

  private static spawnThread(spec: WorkerSpec): WorkerHandle {
    const worker = new Worker(WORKER_MODULE);
    return new WorkerHandle(
      spec,
      (message) => worker.postMessage(message),
      () => void worker.terminate(),
      (deliver, onExit) => {
        worker.on('message', (m) => deliver(m as FromWorker));
        worker.once('exit', onExit);
        worker.once('error', onExit);
      },
    );
  }

  onMessage(listener: (message: FromWorker) => void): void {
    this.listener = listener;
  }

  send(message: ToWorker): void {
    if (!this.exitedFlag) this.post(message);
  }

  /** Waits for the worker to end by itself; kills it if it takes longer than a few seconds. */
  async waitForExit(): Promise<void> {
    const timer = setTimeout(() => this.kill(), EXIT_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  forceStop(): void {
    if (!this.exitedFlag) this.kill();
  }
}
