/**
 * Writes gathered per event-loop turn: every packet a turn produces for one client (PUBACKs for a
 * burst of publishes, deliveries fanned out to it) leaves in one socket write at setImmediate, as the
 * AMQP door's SocketOutput does. One write per packet cost half the broker's CPU in the syscall alone
 * (bench/mqtt.ts under --cpu-prof: 52% in writeBuffer).
 *
 * Packets are encoded straight into an output block: `reserve(n)` gives room for n bytes at
 * `reservedAt` in the block it returns, `commit(written)` keeps what was written there. A delivery so
 * costs no Buffer of its own and no copy into the batch. The part of a block a flush hands to the sink
 * is never written again; the rest of the block serves the next turns. An idle connection keeps no
 * block (one is dropped after a quiet turn), so thousands of idle clients hold none.
 */

/** A connection's first block, and the one after a quiet turn: small, from Node's shared pool. */
const MIN_BLOCK_BYTES = 1024;
/** Blocks double while a turn keeps filling them, up to this. */
const MAX_BLOCK_BYTES = 64 * 1024;
/** Ordinary writes up to this are copied into the block; longer ones are sent as they are (no copy). */
const COPY_LIMIT = 4096;

export class BatchedOutput {
  /** Filled pieces of this turn, in order (sealed block parts and long writes). */
  private chunks: Buffer[] = [];
  private block: Buffer | undefined;
  /** Where this turn's unsealed bytes start in `block`, and where the next bytes go. */
  private blockStart = 0;
  private blockUsed = 0;
  private nextBlockBytes = MIN_BLOCK_BYTES;
  private bytes = 0;
  private scheduled = false;

  constructor(private readonly sink: (bytes: Buffer) => void) {}

  /** Bytes gathered and not yet handed to the socket (counted as back-pressure). */
  get pending(): number {
    return this.bytes;
  }

  /** Room for `n` bytes: write them into the returned block from `reservedAt`, then `commit`. */
  reserve(n: number): Buffer {
    const block = this.block;
    if (block !== undefined && block.length - this.blockUsed >= n) return block;
    return this.startBlock(n);
  }

  /** Where the room given by the last `reserve` starts. */
  get reservedAt(): number {
    return this.blockUsed;
  }

  /** Keeps `written` bytes (at most what was reserved) at `reservedAt`. */
  commit(written: number): void {
    this.blockUsed += written;
    this.added(written);
  }

  write(bytes: Buffer): void {
    if (bytes.length <= COPY_LIMIT) {
      const block = this.reserve(bytes.length);
      bytes.copy(block, this.blockUsed);
      return this.commit(bytes.length);
    }
    this.seal();
    this.chunks.push(bytes);
    this.added(bytes.length);
  }

  /** Hands everything gathered to the socket now (before a graceful end). */
  flush(): void {
    this.seal();
    const chunks = this.chunks;
    const total = this.bytes;
    // A quiet turn: the block is let go (what was sealed of it stays alive in the chunk until written).
    if (total < MIN_BLOCK_BYTES) this.dropBlock();
    if (chunks.length === 0) return;
    this.chunks = [];
    this.bytes = 0;
    this.sink(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
  }

  /** The socket is gone: what was gathered is dropped. */
  discard(): void {
    this.chunks = [];
    this.bytes = 0;
    this.dropBlock();
  }

  private added(n: number): void {
    this.bytes += n;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flushTick);
  }

  /** Closes this turn's part of the block into a chunk, so later bytes (in another block or chunk) follow it. */
  private seal(): void {
    if (this.block === undefined || this.blockUsed === this.blockStart) return;
    this.chunks.push(this.block.subarray(this.blockStart, this.blockUsed));
    this.blockStart = this.blockUsed;
  }

  private startBlock(n: number): Buffer {
    this.seal();
    const block = Buffer.allocUnsafe(Math.max(n, this.nextBlockBytes));
    this.nextBlockBytes = Math.min(MAX_BLOCK_BYTES, this.nextBlockBytes * 2);
    this.block = block;
    this.blockStart = 0;
    this.blockUsed = 0;
    return block;
  }

  private dropBlock(): void {
    this.block = undefined;
    this.blockStart = 0;
    this.blockUsed = 0;
    this.nextBlockBytes = MIN_BLOCK_BYTES;
  }

  private readonly flushTick = (): void => {
    this.scheduled = false;
    this.flush();
  };
}
