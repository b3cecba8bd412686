import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RabbitMQ's default password hashing (rabbit_password_hashing_sha256): a 4-byte random salt,
 * SHA-256 over salt + UTF-8 password, stored as base64(salt + digest). Using the same scheme means
 * `password_hash` values from a RabbitMQ definitions export work here unchanged.
 */
const SALT_BYTES = 4;
const DIGEST_BYTES = 32;
const HASH_BYTES = SALT_BYTES + DIGEST_BYTES;

/** Hashes a password with a fresh random salt (or the given one, for tests and imports). */
export function hashPassword(password: string, salt: Buffer = randomBytes(SALT_BYTES)): string {
  if (salt.length !== SALT_BYTES) throw new RangeError(`password salt must be ${SALT_BYTES} bytes, got ${salt.length}`);
  return Buffer.concat([salt, saltedDigest(salt, password)]).toString('base64');
}

/** True when `passwordHash` is a well-formed SHA-256 hash in RabbitMQ's format. */
export function isPasswordHash(passwordHash: string): boolean {
  return /^[A-Za-z0-9+/]{48}$/.test(passwordHash) && Buffer.from(passwordHash, 'base64').length === HASH_BYTES;
}

/** Compares in constant time (for a given hash length), so timing does not leak how much matched. */
export function verifyPassword(password: string, passwordHash: string): boolean {
  const stored = Buffer.from(passwordHash, 'base64');
  if (stored.length !== HASH_BYTES) return false;
  const salt = stored.subarray(0, SALT_BYTES);
  return timingSafeEqual(stored.subarray(SALT_BYTES), saltedDigest(salt, password));
}

function saltedDigest(salt: Buffer, password: string): Buffer {
  return createHash('sha256').update(salt).update(password, 'utf8').digest();
}
