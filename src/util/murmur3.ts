/**
 * MurmurHash3, x86 32-bit (Austin Appleby's public-domain algorithm), in its parts: super streams need
 * the exact function RabbitMQ's stream clients use to pick a partition; the consistent-hash exchange
 * builds its own string hash from the same block mix and finalizer.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** Scrambles one 32-bit block (k1 in the reference code). */
function scramble(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

/** Mixes one whole 4-byte block into the state. */
export function murmur3MixBlock(h: number, k: number): number {
  h ^= scramble(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** The length and the avalanche: the unsigned 32-bit result. */
export function murmur3Finalize(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86 32-bit of bytes, unsigned. */
export function murmur3(bytes: Buffer, seed: number): number {
  let h = seed | 0;
  const blocks = bytes.length >>> 2;
  for (let i = 0; i < blocks; i++) h = murmur3MixBlock(h, bytes.readInt32LE(i * 4));
  // The 1 to 3 bytes left over, little endian: scrambled and xored in, without the block's rotation.
  const tail = blocks * 4;
  const rest = bytes.length & 3;
  if (rest !== 0) {
    let k = 0;
    for (let i = rest - 1; i >= 0; i--) k = (k << 8) | bytes[tail + i]!;
    h ^= scramble(k);
  }
  return murmur3Finalize(h, bytes.length);
}
