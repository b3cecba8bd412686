/**
 * Small message bodies, copied out of the socket chunk they arrived in into a slab of their own. A body
 * left as a view of its chunk keeps the whole chunk alive, frames and all: for a 16-byte body that is
 * about 80 bytes of socket data per waiting message, five times the body. Copied, the frames' bytes are
 * freed with the chunk and waiting bodies lie packed together, in publish order.
 *
 * The slab grows by doubling from SLAB_FIRST_BYTES so that a channel that publishes now and then keeps
 * a small one; a slab is freed when no body in it is referenced any more.
 */
export const SLAB_COPY_MAX_BYTES = 512;
const SLAB_FIRST_BYTES = 1024;
const SLAB_MAX_BYTES = 64 * 1024;

export class BodySlab {
  private slab: Buffer | undefined = undefined;
  private used = 0;

  /** A copy of `body` (at most SLAB_COPY_MAX_BYTES) in the current slab. */
  copy(body: Buffer): Buffer {
    const size = body.length;
    let slab = this.slab;
    if (slab === undefined || this.used + size > slab.length) {
      slab = Buffer.allocUnsafeSlow(slab === undefined ? SLAB_FIRST_BYTES : Math.min(SLAB_MAX_BYTES, slab.length * 2));
      this.slab = slab;
      this.used = 0;
    }
    const at = this.used;
    slab.set(body, at);
    // Keep bodies 8-byte aligned, so a writer reading one touches as few cache lines as it can.
    this.used = (at + size + 7) & ~7;
    return slab.subarray(at, at + size);
  }
}
