import * as crypto from 'node:crypto';

type OneShot = (algorithm: string, data: string | Buffer, encoding: 'hex') => string;
/** crypto.hash (Node 20.12+): a one-shot digest without a Hash object, about twice as fast for small inputs. */
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** Hex digest of one input: the per-request and per-message hashes (SigV4, MD5OfMessageBody) go through here. */
export function digestHex(algorithm: 'md5' | 'sha256', data: string | Buffer): string {
  return oneShot !== undefined ? oneShot(algorithm, data, 'hex') : crypto.createHash(algorithm).update(data).digest('hex');
}
