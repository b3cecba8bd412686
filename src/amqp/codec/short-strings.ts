/** Longest short string remembered; routing keys, exchange names and consumer tags are usually shorter. */
export const REMEMBERED_MAX_BYTES = 48;

/**
 * The last two short strings one reader decoded, with their bytes. A publisher names the same
 * exchange and routing key in every basic.publish; answering those from here saves a call into C++
 * and a new string per message. Comparing at most 48 bytes in JS is cheaper than decoding them.
 */
export class ShortStringMemo {
  private readonly bytesA = Buffer.alloc(REMEMBERED_MAX_BYTES);
  private readonly bytesB = Buffer.alloc(REMEMBERED_MAX_BYTES);
  private lengthA = -1;
  private lengthB = -1;
  private stringA = '';
  private stringB = '';
  /** Overwrite slot A next (else B): the slot not hit last. */
  private replaceA = true;

  /** buf[at, at + length) as UTF-8; length must be 1..REMEMBERED_MAX_BYTES. */
  decode(buf: Buffer, at: number, length: number): string {
    if (this.lengthA === length && same(buf, at, this.bytesA, length)) {
      this.replaceA = false;
      return this.stringA;
    }
    if (this.lengthB === length && same(buf, at, this.bytesB, length)) {
      this.replaceA = true;
      return this.stringB;
    }
    const value = buf.toString('utf8', at, at + length);
    if (this.replaceA) {
      buf.copy(this.bytesA, 0, at, at + length);
      this.lengthA = length;
      this.stringA = value;
    } else {
      buf.copy(this.bytesB, 0, at, at + length);
      this.lengthB = length;
      this.stringB = value;
    }
    this.replaceA = !this.replaceA;
    return value;
  }
}

function same(buf: Buffer, at: number, remembered: Buffer, length: number): boolean {
  for (let i = 0; i < length; i++) if (buf[at + i] !== remembered[i]) return false;
  return true;
}
