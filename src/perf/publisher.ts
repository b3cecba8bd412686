import type { PerfChannel, PerfConnection } from './client.js';
import type { PublishTemplate } from './publish-template.js';

/** Above this many bytes waiting in the socket the publisher waits for 'drain' (TCP back-pressure). */
const HIGH_WATER_BYTES = 1024 * 1024;
/** Batches per turn of the event loop before yielding, so confirms and progress ticks get read. */
const BATCHES_PER_TURN = 16;

export interface PublisherSettings {
  /** Messages per second; 0 = unlimited. */
  rate: number;
  /** Max unconfirmed messages; 0 = no confirms. */
  confirmMax: number;
  /** Stop after this many messages; 0 = no limit. */
  limit: number;
}

/**
 * Publishes pre-encoded batches as fast as the broker, the rate limit, and the confirm window allow.
 * Runs entirely from event-loop callbacks: no promise or closure per message.
 */
export class PublisherLoop {
  published = 0;
  private stopped = true;
  private scheduled = false;
  private waitingForConfirms = false;
  private startedAtMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pumpNow = (): void => this.pump();
  private finishedCallback: (() => void) | undefined;

  constructor(
    private readonly connection: PerfConnection,
    private readonly channel: PerfChannel,
    private readonly template: PublishTemplate,
    private readonly settings: PublisherSettings,
  ) {
    channel.onConfirmed = () => this.onConfirmed();
    connection.onBlockedChange = (blocked) => {
      if (!blocked) this.schedule();
    };
  }

  get confirmed(): number {
    return this.channel.confirms.acked;
  }

  get nacked(): number {
    return this.channel.confirms.nacked;
  }

  /** Begins publishing; `onFinished` runs once the message limit is sent and (with confirms) confirmed. */
  start(onFinished?: () => void): void {
    this.finishedCallback = onFinished;
    this.stopped = false;
    this.startedAtMs = performance.now();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.pumpNow);
  }

  private pump(): void {
    this.scheduled = false;
    for (let turn = 0; turn < BATCHES_PER_TURN; turn++) {
      if (this.stopped || this.connection.closed || this.connection.blocked) return;
      const count = this.nextBatchSize();
      if (count <= 0) return;
      this.channel.publishBatch(this.template, count);
      this.published += count;
      if (this.connection.writableLength > HIGH_WATER_BYTES) {
        this.connection.whenDrained(() => this.schedule());
        return;
      }
    }
    this.schedule();
  }

  /** How many messages may go now; 0 or less means "not now" (and arranges to be woken). */
  private nextBatchSize(): number {
    let count = this.template.perBatch;
    const { limit, confirmMax, rate } = this.settings;
    if (limit > 0) {
      count = Math.min(count, limit - this.published);
      if (count <= 0) {
        this.checkFinished();
        return 0;
      }
    }
    if (confirmMax > 0) {
      count = Math.min(count, confirmMax - this.channel.confirms.outstanding);
      if (count <= 0) {
        this.waitingForConfirms = true;
        return 0;
      }
    }
    if (rate > 0) {
      const elapsedS = (performance.now() - this.startedAtMs) / 1000;
      const due = Math.floor(elapsedS * rate) - this.published;
      count = Math.min(count, due);
      if (count <= 0) {
        this.wakeAtNextSlot(elapsedS);
        return 0;
      }
    }
    return count;
  }

  private wakeAtNextSlot(elapsedS: number): void {
    const nextAtS = (this.published + 1) / this.settings.rate;
    const delayMs = Math.max(1, (nextAtS - elapsedS) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, delayMs);
  }

  private onConfirmed(): void {
    if (this.settings.limit > 0 && this.published >= this.settings.limit) this.checkFinished();
    if (this.waitingForConfirms) {
      this.waitingForConfirms = false;
      this.schedule();
    }
  }

  private checkFinished(): void {
    if (this.finishedCallback === undefined) return;
    if (this.settings.confirmMax > 0 && this.channel.confirms.outstanding > 0) return;
    const callback = this.finishedCallback;
    this.finishedCallback = undefined;
    callback();
  }
}
