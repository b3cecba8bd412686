/**
 * Writes gathered per event-loop turn: every packet a turn produces for one client (PUBACKs for a
 * burst of publishes, deliveries fanned out to it) leaves in one socket write at setImmediate, as the
 * AMQP door's SocketOutput does. One write per packet cost half the broker's CPU in the syscall alone
 * (bench/mqtt.ts under --cpu-prof: 52% in writeBuffer).
 */
export class BatchedOutput {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly sink: (bytes: Buffer) => void) {}

  /** Bytes gathered and not yet handed to the socket (counted as back-pressure). */
  get pending(): number {
    return this.bytes;
  }

  write(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.bytes += bytes.length;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushTick);
  }

  /** Hands everything gathered to the socket now (before a graceful end). */
  flush(): void {
    const chunks = this.chunks;
    if (chunks.length === 0) return;
    const total = this.bytes;
    this.chunks = [];
    this.bytes = 0;
    this.sink(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
  }

  /** The socket is gone: what was gathered is dropped. */
  discard(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  private readonly flushTick = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
