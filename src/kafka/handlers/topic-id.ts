/** Topic ids (KIP-516) for the versions that carry them: a stable UUID derived from vhost and name. */
import { createHash } from 'node:crypto';

export function topicId(vhost: string, name: string): Buffer {
  const id = createHash('sha1').update(`${vhost}\u0000${name}`).digest().subarray(0, 16);
  // RFC 4122 version 5 / variant bits, so tools that parse it see a well-formed UUID.
  id[6] = (id[6]! & 0x0f) | 0x50;
  id[8] = (id[8]! & 0x3f) | 0x80;
  return id;
}

export const ZERO_UUID = Buffer.alloc(16);
