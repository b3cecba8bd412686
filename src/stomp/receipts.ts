/**
 * RECEIPT frames in the order their frames came (STOMP 1.2 "RECEIPT"), though some must wait: a SEND's
 * receipt is written only once the message is durable (as RabbitMQ's plugin waits for its confirm).
 */
export class ReceiptQueue {
  private readonly waiting: Array<{ readonly id: string; ready: boolean; lost: boolean }> = [];

  constructor(private readonly write: (receiptId: string, lost: boolean) => void) {}

  /** A receipt ready now (but behind any still waiting). */
  now(id: string): void {
    this.waiting.push({ id, ready: true, lost: false });
    this.flush();
  }

  /** A receipt written once `wait` calls back. */
  after(id: string, wait: (done: (lost: boolean) => void) => void): void {
    const item = { id, ready: false, lost: false };
    this.waiting.push(item);
    wait((lost) => {
      item.ready = true;
      item.lost = lost;
      this.flush();
    });
  }

  get pending(): number {
    return this.waiting.length;
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.ready) {
      const item = this.waiting.shift()!;
      this.write(item.id, item.lost);
    }
  }
}
