import { escapeHeader } from './escape.js';
import type { HeaderEscaping } from './frame.js';

const NUL = Buffer.from([0]);

/**
 * One frame's bytes. Headers are written in the order given; `content-length` is added for a
 * non-empty body (so bodies may hold NUL), as the 1.2 spec recommends servers do.
 */
export function encodeFrame(
  command: string,
  headers: Iterable<readonly [string, string]>,
  body: Buffer | undefined,
  escaping: HeaderEscaping,
): Buffer {
  let head = command + '\n';
  let sawLength = false;
  for (const [name, value] of headers) {
    if (name === 'content-length') sawLength = true;
    head += escapeHeader(name, escaping) + ':' + escapeHeader(value, escaping) + '\n';
  }
  if (body !== undefined && body.length > 0 && !sawLength) head += `content-length:${body.length}\n`;
  head += '\n';
  if (body === undefined || body.length === 0) return Buffer.from(head + '\0', 'utf8');
  return Buffer.concat([Buffer.from(head, 'utf8'), body, NUL]);
}

/** A heart-beat is one EOL (1.1 "Heart-beating"). */
export const HEARTBEAT = Buffer.from('\n');
