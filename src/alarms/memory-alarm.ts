import { totalmem } from 'node:os';

export interface MemoryAlarmOptions {
  /** Alarm while the process's resident memory is at or above this many bytes. */
  limitBytes: number;
  /** How often memory is checked. Default 1000 ms (reading RSS is a cheap syscall). */
  intervalMs?: number;
  /** Raised (true) or cleared (false); called on changes only. */
  onChange(alarmed: boolean, usedBytes: number): void;
  /** Where the used-memory figure comes from (tests inject one). Default: process RSS. */
  usedBytes?: () => number;
}

/** RabbitMQ's vm_memory_high_watermark: a share of the machine's memory. */
export function memoryLimitBytes(watermark: number, total = totalmem()): number {
  return Math.floor(total * watermark);
}

/**
 * RabbitMQ's memory alarm: above the high watermark, publishers are blocked (connection.blocked) until
 * memory falls, so consumers can drain queues instead of the process being killed for running out.
 * Polls on a timer that never keeps the process alive.
 */
export class MemoryAlarm {
  private timer: NodeJS.Timeout | undefined;
  private alarmed = false;
  private lastUsed = 0;
  private readonly usedBytes: () => number;

  constructor(private readonly options: MemoryAlarmOptions) {
    this.usedBytes = options.usedBytes ?? (() => process.memoryUsage.rss());
  }

  get active(): boolean {
    return this.alarmed;
  }

  get limitBytes(): number {
    return this.options.limitBytes;
  }

  /** Used bytes at the last check. */
  get lastUsedBytes(): number {
    return this.lastUsed;
  }

  start(): void {
    this.check();
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    const used = this.reading();
    if (used === undefined) return;
    this.lastUsed = used;
    const alarmed = this.lastUsed >= this.options.limitBytes;
    if (alarmed === this.alarmed) return;
    this.alarmed = alarmed;
    this.options.onChange(alarmed, this.lastUsed);
  }

  /**
   * The used bytes, or undefined when they cannot be read now: process RSS opens /proc/self/stat, which
   * fails with EMFILE while every descriptor is taken (a flood of connections). That must not crash
   * the broker from a timer; the alarm keeps its state until the next reading succeeds.
   */
  private reading(): number | undefined {
    try {
      return this.usedBytes();
    } catch {
      return undefined;
    }
  }
}
