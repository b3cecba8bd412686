import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/**
 * SCRAM credentials (RFC 5802 section 3, RFC 7677): what a server keeps so that a client can prove it
 * knows the password without sending it, and without the server keeping the password itself.
 *
 *   SaltedPassword = Hi(password, salt, i)        (PBKDF2 with HMAC-H, output as long as H)
 *   StoredKey      = H(HMAC(SaltedPassword, "Client Key"))
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * They can be made only while the password is known (RabbitMQ-format hashes cannot give them), so the
 * user registry makes them whenever it learns a password. Protocol-neutral: any door may offer SCRAM.
 */
export type ScramHash = 'sha256' | 'sha512';

export const SCRAM_HASHES: readonly ScramHash[] = ['sha256', 'sha512'];

/** One hash function's credential, binary values in base64 (so it stores as JSON as it is). */
export interface ScramCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export type ScramCredentials = Record<ScramHash, ScramCredential>;

/** RFC 7677 section 4 asks for at least 4096; Kafka's minimum too (KIP-84). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;
const DIGEST_BYTES: Record<ScramHash, number> = { sha256: 32, sha512: 64 };

export function scramCredential(hash: ScramHash, password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = DEFAULT_SCRAM_ITERATIONS): ScramCredential {
  if (!Number.isInteger(iterations) || iterations < 1) throw new RangeError(`SCRAM iterations must be a positive integer, got ${iterations}`);
  // No SASLprep of the password (RFC 5802 asks for it): Kafka's own broker and clients send the UTF-8
  // bytes as they are, and a client that did normalise would differ only for unusual Unicode.
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, DIGEST_BYTES[hash], hash);
  const clientKey = hmac(hash, salted, 'Client Key');
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: digest(hash, clientKey).toString('base64'),
    serverKey: hmac(hash, salted, 'Server Key').toString('base64'),
  };
}

/** Both hash functions' credentials for one password, each with its own salt. */
export function scramCredentials(password: string, iterations = DEFAULT_SCRAM_ITERATIONS): ScramCredentials {
  return { sha256: scramCredential('sha256', password, undefined, iterations), sha512: scramCredential('sha512', password, undefined, iterations) };
}

/** True for a value that has the shape of ScramCredentials (read back from a journal or a cluster). */
export function isScramCredentials(value: unknown): value is ScramCredentials {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return SCRAM_HASHES.every((hash) => isCredential(record[hash], hash));
}

function isCredential(value: unknown, hash: ScramHash): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Partial<Record<keyof ScramCredential, unknown>>;
  const keyLength = (key: unknown): number => (typeof key === 'string' ? Buffer.from(key, 'base64').length : -1);
  return typeof c.salt === 'string' && c.salt !== '' && Number.isInteger(c.iterations) && (c.iterations as number) > 0
    && keyLength(c.storedKey) === DIGEST_BYTES[hash] && keyLength(c.serverKey) === DIGEST_BYTES[hash];
}

export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function digest(hash: ScramHash, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}
