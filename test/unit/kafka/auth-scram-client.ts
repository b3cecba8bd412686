/**
 * A SCRAM client written from RFC 5802 section 3 for the unit tests, independent of the server code
 * (it derives everything from the password), so a mistake on one side shows as a failed exchange.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

export type Hash = 'sha256' | 'sha512';

/** `sentNonce`: the nonce to send back (default: server-first's, as RFC 5802 says; old librdkafka differs). */
export function clientFinal(hash: Hash, password: string, clientFirstBare: string, serverFirst: string, gs2Header = 'n,,', sentNonce?: string): { message: string; serverSignature: string } {
  const fields = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
  const nonce = sentNonce ?? fields.get('r')!;
  const salt = Buffer.from(fields.get('s')!, 'base64');
  const iterations = Number(fields.get('i'));
  const salted = pbkdf2Sync(password, salt, iterations, hash === 'sha256' ? 32 : 64, hash);
  const mac = (key: Buffer, data: string): Buffer => createHmac(hash, key).update(data).digest();
  const clientKey = mac(salted, 'Client Key');
  const storedKey = createHash(hash).update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(gs2Header).toString('base64')},r=${nonce}`;
  const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
  const signature = mac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]!));
  const serverSignature = mac(mac(salted, 'Server Key'), authMessage).toString('base64');
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature };
}
