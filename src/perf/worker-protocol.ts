import type { HistogramSnapshot } from './histogram.js';
import type { PerfOptions } from './options.js';

/** What one worker runs: several publishers or several consumers, each on its own connection. */
export type WorkerSpec =
  | { role: 'publisher'; options: PerfOptions; targets: { exchange: string; routingKey: string }[] }
  | { role: 'consumer'; options: PerfOptions; queues: string[] };

export interface Counters {
  published: number;
  confirmed: number;
  nacked: number;
  consumed: number;
}

export type ToWorker = { kind: 'start'; spec: WorkerSpec } | { kind: 'go' } | { kind: 'stop' };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'tick'; counters: Counters; interval: HistogramSnapshot }
  | { kind: 'done' }
  | { kind: 'final'; counters: Counters; latency: HistogramSnapshot; cpuMicros: number }
  | { kind: 'error'; message: string };

/** The two ends of a worker's message channel, whether it is a child process or a thread. */
export interface WorkerPort {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** Lets the worker end once its connections are closed. */
  close(): void;
}
