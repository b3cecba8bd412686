/** Collecting frames out of a FrameParser, and feeding it bytes in various splits. */
import { FrameParser, type Frame } from '../../../src/amqp/codec/index.js';
import { int, type Rng } from './random.js';

export function collectingParser(frameMax = 131072): { parser: FrameParser; frames: Frame[] } {
  const frames: Frame[] = [];
  const parser = new FrameParser({ onFrame: (f) => frames.push(f) }, { frameMax, expectProtocolHeader: false });
  return { parser, frames };
}

/** Parses `bytes` pushed as the given pieces (each piece is a fresh Buffer, as socket chunks are). */
export function parsePieces(pieces: Buffer[], frameMax?: number): Frame[] {
  const { parser, frames } = collectingParser(frameMax);
  for (const piece of pieces) parser.push(Buffer.from(piece));
  return frames;
}

export function oneBytePieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(bytes.subarray(i, i + 1));
  return out;
}

export function randomPieces(rng: Rng, bytes: Buffer, maxPiece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < bytes.length; ) {
    const n = Math.min(bytes.length - off, int(rng, 0, maxPiece));
    out.push(bytes.subarray(off, off + n));
    off += n;
  }
  return out;
}
