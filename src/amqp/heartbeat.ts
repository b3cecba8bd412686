/** The byte counters a heartbeat monitor watches; the connection bumps them as it reads and writes. */
export interface TrafficCounters {
  readonly bytesIn: number;
  readonly bytesOut: number;
}

export interface HeartbeatActions {
  /** Nothing was written for half an interval: send a heartbeat frame. */
  sendHeartbeat(): void;
  /** Nothing was read for two intervals: the peer is gone. */
  peerSilent(silentMs: number): void;
}

/**
 * Heartbeats both ways (spec 4.2.7) on one timer that ticks every half interval, as RabbitMQ's
 * heartbeater does: a tick with no bytes written sends a heartbeat; four ticks in a row with no bytes read
 * (two full intervals) declare the peer dead. Watching counters keeps the per-frame path free of any
 * timestamp work.
 */
export class HeartbeatMonitor {
  private timer: NodeJS.Timeout | undefined;
  private lastIn = 0;
  private lastOut = 0;
  private silentTicks = 0;
  private receivePaused = false;
  private readonly tickMs: number;

  constructor(
    intervalSeconds: number,
    private readonly counters: TrafficCounters,
    private readonly actions: HeartbeatActions,
  ) {
    this.tickMs = (intervalSeconds * 1000) / 2;
  }

  start(): void {
    if (this.timer !== undefined || this.tickMs <= 0) return;
    this.lastIn = this.counters.bytesIn;
    this.lastOut = this.counters.bytesOut;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * While a blocked publisher's socket is not read, its heartbeats go unread too; RabbitMQ pauses the
   * receive side of the monitor for that time.
   */
  pauseReceive(paused: boolean): void {
    this.receivePaused = paused;
    this.silentTicks = 0;
    this.lastIn = this.counters.bytesIn;
  }

  private tick(): void {
    const { bytesIn, bytesOut } = this.counters;
    if (bytesOut === this.lastOut) this.actions.sendHeartbeat();
    this.lastOut = this.counters.bytesOut;

    if (this.receivePaused || bytesIn !== this.lastIn) {
      this.silentTicks = 0;
      this.lastIn = bytesIn;
      return;
    }
    this.silentTicks++;
    if (this.silentTicks >= 4) {
      this.stop();
      this.actions.peerSilent(this.silentTicks * this.tickMs);
    }
  }
}
