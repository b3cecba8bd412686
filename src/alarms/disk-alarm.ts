/** What the disk alarm watches: the store's free-space probe. */
export interface FreeSpaceSource {
  freeBytes(): Promise<number>;
}

export interface DiskAlarmOptions {
  /** Alarm while free bytes are below this (RabbitMQ's disk_free_limit). */
  limitBytes: number;
  /** How often free space is checked. Default 2000 ms. */
  intervalMs?: number;
  /** Raised (true) or cleared (false); called on changes only. */
  onChange(alarmed: boolean, freeBytes: number): void;
  /** A probe failed (the alarm state is kept as it was). */
  onError?(error: unknown): void;
}

/**
 * RabbitMQ's disk alarm: while the data dir's filesystem has less free space than the limit, publishers
 * are blocked (connection.blocked) so that a full disk stops intake instead of failing writes. Consumers
 * keep going, and acks free space. Polls on a timer that never keeps the process alive.
 */
export class DiskAlarm {
  private timer: NodeJS.Timeout | undefined;
  private alarmed = false;
  private stopped = false;
  private lastFree = Number.NaN;
  private readonly intervalMs: number;
  private readonly tick = (): void => {
    this.timer = undefined;
    void this.check().finally(() => this.schedule());
  };

  constructor(
    private readonly source: FreeSpaceSource,
    private readonly options: DiskAlarmOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 2000;
  }

  get active(): boolean {
    return this.alarmed;
  }

  /** Free bytes at the last check (NaN before the first). */
  get freeBytes(): number {
    return this.lastFree;
  }

  /** Checks once now (so a full disk blocks from the first connection on), then on the interval. */
  async start(): Promise<void> {
    await this.check();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One probe; raises or clears the alarm on a change. */
  async check(): Promise<void> {
    let free: number;
    try {
      free = await this.source.freeBytes();
    } catch (error) {
      this.options.onError?.(error);
      return;
    }
    if (this.stopped) return;
    this.lastFree = free;
    const alarmed = free < this.options.limitBytes;
    if (alarmed === this.alarmed) return;
    this.alarmed = alarmed;
    this.options.onChange(alarmed, free);
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    this.timer = setTimeout(this.tick, this.intervalMs);
    this.timer.unref();
  }
}
