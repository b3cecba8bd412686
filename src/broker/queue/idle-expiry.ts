/**
 * x-expires: the queue is deleted once it has been unused for that long: no consumers, no basic.get, no
 * redeclare (RabbitMQ's definition). The clock runs only while there are no consumers.
 */
export class IdleExpiry {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly ms: number,
    private readonly expire: () => void,
  ) {}

  /** No consumers (any more): start counting from now. */
  start(): void {
    if (this.timer !== undefined) {
      this.timer.refresh();
      return;
    }
    // setTimeout holds at most 2^31-1 ms (24.8 days); longer x-expires values wait that long.
    this.timer = setTimeout(this.fire, Math.min(this.ms, 0x7fffffff));
    this.timer.unref();
  }

  /** A consumer is attached: the queue is in use. */
  pause(): void {
    this.stop();
  }

  /** basic.get or redeclare: counting starts again (if it was running). */
  touch(): void {
    this.timer?.refresh();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.expire();
  };
}
