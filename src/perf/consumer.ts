import type { DeliveryHandler, PerfChannel } from './client.js';
import { LatencyHistogram } from './histogram.js';

/**
 * Counts deliveries, records end-to-end latency and acknowledges with `multiple` once per socket read.
 * Messages of one publisher batch share a send stamp and arrive in one read, so latency is recorded
 * per run of equal (stamp, read time) pairs: one histogram update for hundreds of messages.
 */
export class ConsumerLoop implements DeliveryHandler {
  consumed = 0;
  cancelled = false;
  readonly total = new LatencyHistogram();
  readonly interval = new LatencyHistogram();
  private lastTag = 0;
  private ackedTag = 0;
  private runStamp = -1;
  private runReadAt = 0;
  private runCount = 0;

  constructor(
    private readonly channel: PerfChannel,
    private readonly autoAck: boolean,
  ) {}

  onDelivery(deliveryTag: number, stampNs: number, readAtNs: number): void {
    this.consumed++;
    this.lastTag = deliveryTag;
    if (stampNs < 0) return;
    if (stampNs === this.runStamp && readAtNs === this.runReadAt) {
      this.runCount++;
      return;
    }
    this.recordRun();
    this.runStamp = stampNs;
    this.runReadAt = readAtNs;
    this.runCount = 1;
  }

  onReadEnd(): void {
    this.recordRun();
    if (!this.autoAck && this.lastTag > this.ackedTag) {
      this.channel.ackUpTo(this.lastTag);
      this.ackedTag = this.lastTag;
    }
  }

  onCancel(): void {
    this.cancelled = true;
  }

  private recordRun(): void {
    if (this.runCount === 0) return;
    const micros = (this.runReadAt - this.runStamp) / 1000;
    this.total.record(micros, this.runCount);
    this.interval.record(micros, this.runCount);
    this.runCount = 0;
    this.runStamp = -1;
  }
}
