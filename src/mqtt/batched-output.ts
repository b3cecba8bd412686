/**
 * Writes gathered per socket read: every packet one chunk of input produces for a client (PUBACKs for
 * a burst of publishes, deliveries fanned out to it) leaves in one socket write when the door has
 * handled that chunk (`flushOutputs`), and what is written outside a read (acks after durability,
 * deliveries from other doors) at setImmediate. One write per packet cost half the broker's CPU in the
 * syscall alone (bench/mqtt.ts under --cpu-prof: 52% in writeBuffer). Waiting for setImmediate after a
 * read as well put the rest of the event-loop turn (microtasks, the other sockets read in that turn)
 * between a publish and its delivery: 27 us at the median, 0.2 ms at the 99th percentile at 2,000
 * msg/s (BENCHMARKS.md, 2026-12-06).
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

/** Outputs holding bytes not yet handed to their sockets, in the order they were first written to. */
const unflushed: BatchedOutput[] = [];
let immediateArmed = false;

/** Hands every output's gathered bytes to its socket (after a chunk of input was handled, and at setImmediate). */
export function flushOutputs(): void {
  // A flush may lead to more writes (a socket that drains at once resumes dispatch): they join the
  // list behind and are flushed in this same pass.
  for (let i = 0; i < unflushed.length; i++) unflushed[i]!.flushListed();
  unflushed.length = 0;
}

function flushAtImmediate(): void {
  immediateArmed = false;
  flushOutputs();
}

export class BatchedOutput {
  /** Filled pieces of this turn, in order (sealed block parts and long writes). */
  private chunks: Buffer[] = [];
  private block: Buffer | undefined;
  /** Where this turn's unsealed bytes start in `block`, and where the next bytes go. */
  private blockStart = 0;
  private blockUsed = 0;
  private nextBlockBytes = MIN_BLOCK_BYTES;
  private bytes = 0;
  /** In `unflushed`. */
  private listed = false;

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

  /** Called by flushOutputs only: leaves the list, then flushes. */
  flushListed(): void {
    this.listed = false;
    this.flush();
  }

  private added(n: number): void {
    this.bytes += n;
    if (this.listed) return;
    this.listed = true;
    unflushed.push(this);
    if (immediateArmed) return;
    immediateArmed = true;
    setImmediate(flushAtImmediate);
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
}
