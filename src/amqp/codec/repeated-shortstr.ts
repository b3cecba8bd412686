/** Strings up to this many UTF-16 units are tried as plain ASCII in JS, skipping a call into C++. */
const ASCII_FAST_LENGTH = 48;

/**
 * Writes a shortstr (length octet + UTF-8) at `at` of `b`, which must have 256 bytes of room; returns
 * the index after it. A string over 255 bytes is cut at the last whole character that fits.
 */
export function putShortstr(b: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n <= ASCII_FAST_LENGTH) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      b[at + 1 + i] = c;
    }
    if (i === n) {
      b[at] = n;
      return at + 1 + n;
    }
  }
  const written = b.write(s, at + 1, 255, 'utf8');
  b[at] = written;
  return at + 1 + written;
}

/**
 * One shortstr field of a frame that usually repeats (a consumer tag, the exchange and routing key of
 * consecutive deliveries): when the string is the one written last time, its encoded bytes are copied
 * from where they were written then, byte by byte in JS, instead of being encoded again.
 *
 * Relies on the writer never changing bytes once written (ByteWriter: output is append-only; slabs
 * are replaced, never rewound), so the previous occurrence stays valid for as long as it is referenced.
 */
export class RepeatedShortstr {
  private last: string | undefined = undefined;
  private source: Buffer | undefined = undefined;
  /** Where the length octet of the previous occurrence is in `source`. */
  private sourceAt = 0;

  /** Same contract as putShortstr. */
  put(b: Buffer, at: number, s: string): number {
    const source = this.source;
    if (s === this.last && source !== undefined) {
      const from = this.sourceAt;
      const end = from + 1 + source[from]!;
      let p = at;
      for (let i = from; i < end; i++) b[p++] = source[i]!;
      return p;
    }
    const after = putShortstr(b, at, s);
    this.last = s;
    this.source = b;
    this.sourceAt = at;
    return after;
  }
}
