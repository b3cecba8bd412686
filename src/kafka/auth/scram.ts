import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isLoopbackAddress } from '../../auth/loopback.js';
import { digest, hmac, type ScramCredential, type ScramHash } from '../../auth/scram.js';
import { failure, type SaslExchange, type SaslPeer, type SaslStep } from './mechanism.js';

/** The mechanism names Kafka uses (KIP-84) and the hash each stands for. */
export const SCRAM_MECHANISMS: ReadonlyMap<string, ScramHash> = new Map([['SCRAM-SHA-256', 'sha256'], ['SCRAM-SHA-512', 'sha512']]);

export interface ScramOptions {
  /**
   * A secret of the listener, for the salts shown to unknown users: derived from it and the user name,
   * so they look like a real user's and do not change between attempts (RFC 5802 section 9 suggests
   * not revealing which users exist).
   */
  readonly secret: Buffer;
  /** The server's half of the nonce; random unless a test fixes it (the RFC 7677 example). */
  readonly serverNonce?: () => string;
}

type State =
  | { at: 'client-first' }
  | { at: 'client-final'; username: string; gs2Header: string; clientNonce: string; nonce: string; authPrefix: string; credential: ScramCredential | undefined; hint: string | undefined }
  | { at: 'done' };

const INVALID = (username: string): string => `user '${username}' - invalid credentials`;

/**
 * The server side of SCRAM-SHA-256 / SCRAM-SHA-512 (RFC 5802 section 5, RFC 7677) without channel
 * binding, as Kafka offers it (KIP-84): client-first, server-first, client-final, server-final.
 */
export class ScramExchange implements SaslExchange {
  private state: State = { at: 'client-first' };

  constructor(
    readonly mechanism: string,
    private readonly hash: ScramHash,
    private readonly peer: SaslPeer,
    private readonly options: ScramOptions,
  ) {}

  step(token: Buffer): SaslStep {
    const state = this.state;
    this.state = { at: 'done' };
    if (state.at === 'client-first') return this.clientFirst(token.toString('utf8'));
    if (state.at === 'client-final') return this.clientFinal(token.toString('utf8'), state);
    return failure('SCRAM exchange already finished');
  }

  /** RFC 5802 section 7: gs2-header client-first-message-bare. */
  private clientFirst(message: string): SaslStep {
    const parsed = parseClientFirst(message);
    if (typeof parsed === 'string') return failure(parsed);
    const user = this.peer.users.getUser(parsed.username);
    const credential = user?.scram?.[this.hash];
    const hint = user === undefined ? 'no such user'
      : credential === undefined ? 'the user has no SCRAM credentials (known only by password hash): set the password again to enable SCRAM' : undefined;
    const shown = credential ?? this.decoy(parsed.username);
    const nonce = parsed.clientNonce + (this.options.serverNonce?.() ?? randomBytes(18).toString('base64'));
    const serverFirst = `r=${nonce},s=${shown.salt},i=${shown.iterations}`;
    this.state = {
      at: 'client-final', username: parsed.username, gs2Header: parsed.gs2Header, clientNonce: parsed.clientNonce, nonce,
      authPrefix: `${parsed.bare},${serverFirst},`, credential, hint,
    };
    return { kind: 'challenge', token: Buffer.from(serverFirst, 'utf8') };
  }

  /** RFC 5802 section 7: channel-binding "," nonce ["," extensions] "," proof; then section 3's checks. */
  private clientFinal(message: string, state: Extract<State, { at: 'client-final' }>): SaslStep {
    const proofAt = message.lastIndexOf(',p=');
    if (proofAt < 0) return failure('malformed SCRAM client-final-message: no proof');
    const withoutProof = message.slice(0, proofAt);
    const attributes = withoutProof.split(',');
    if (attributes[0] !== `c=${Buffer.from(state.gs2Header, 'utf8').toString('base64')}`) return failure('SCRAM channel binding does not match the client-first-message');
    if (!nonceMatches(attributes[1], state)) return failure('SCRAM nonce does not match');
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    if (state.credential === undefined) return failure(INVALID(state.username), state.hint);
    const authMessage = state.authPrefix + withoutProof;
    const storedKey = Buffer.from(state.credential.storedKey, 'base64');
    const clientSignature = hmac(this.hash, storedKey, authMessage);
    if (proof.length !== clientSignature.length) return failure(INVALID(state.username), 'proof of the wrong length');
    const clientKey = xor(proof, clientSignature);
    if (!timingSafeEqual(digest(this.hash, clientKey), storedKey)) return failure(INVALID(state.username));
    // Credentials first, the loopback rule second, as UserRegistry.authenticate does.
    if (this.peer.users.isLoopbackOnly(state.username) && !isLoopbackAddress(this.peer.remoteAddress)) {
      return failure(`user '${state.username}' can only connect via localhost`);
    }
    const user = this.peer.users.getUser(state.username);
    if (user === undefined) return failure(INVALID(state.username), 'user deleted during the exchange');
    const serverSignature = hmac(this.hash, Buffer.from(state.credential.serverKey, 'base64'), authMessage);
    return { kind: 'success', token: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), user };
  }

  /** A stable, plausible salt for a user who cannot succeed; the keys behind it are never used. */
  private decoy(username: string): ScramCredential {
    const salt = hmac('sha256', this.options.secret, `${this.hash}:${username}`).subarray(0, 16);
    return { salt: salt.toString('base64'), iterations: 4096, storedKey: '', serverKey: '' };
  }
}

/**
 * RFC 5802 section 5.1: the client-final nonce is the whole nonce of server-first. librdkafka before
 * 2.6.1 (Debian's kcat 1.7 runs 2.0) sends its own nonce once more in front of it (librdkafka #4895;
 * Kafka 3.8.1 accepted it with endsWith): that exact form is accepted too. The proof still covers
 * what the client sent, so it is checked all the same.
 */
function nonceMatches(attribute: string | undefined, state: { clientNonce: string; nonce: string }): boolean {
  return attribute === `r=${state.nonce}` || attribute === `r=${state.clientNonce}${state.nonce}`;
}

interface ClientFirst {
  gs2Header: string;
  bare: string;
  username: string;
  clientNonce: string;
}

/** Parses client-first-message (RFC 5802 section 7), returning a reason string when it is not one. */
export function parseClientFirst(message: string): ClientFirst | string {
  const match = /^([^,]*),([^,]*),(.*)$/s.exec(message);
  if (match === null) return 'malformed SCRAM client-first-message: no gs2 header';
  const [, cbind, authzField, bare] = match as unknown as [string, string, string, string];
  if (cbind.startsWith('p=')) return 'SCRAM channel binding is not supported (use the non-PLUS mechanism)';
  if (cbind !== 'n' && cbind !== 'y') return 'malformed SCRAM gs2 header';
  const attributes = bare.split(',');
  const [nameField, nonceField, ...extensions] = attributes;
  if (nameField?.startsWith('m=') === true) return 'SCRAM mandatory extensions are not supported';
  if (nameField?.startsWith('n=') !== true || nonceField?.startsWith('r=') !== true) return 'malformed SCRAM client-first-message-bare: expected n=user,r=nonce';
  const username = decodeSaslName(nameField.slice(2));
  if (username === undefined || username === '') return 'malformed SCRAM user name';
  const clientNonce = nonceField.slice(2);
  if (!/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) return 'malformed SCRAM nonce';
  if (authzField !== '') {
    const authzid = authzField.startsWith('a=') ? decodeSaslName(authzField.slice(2)) : undefined;
    if (authzid === undefined) return 'malformed SCRAM authorization id';
    if (authzid !== username) return `authorization id '${authzid}' differs from user name '${username}'`;
  }
  // KIP-48 delegation tokens announce themselves with the extension tokenauth=true; Warren has none.
  if (extensions.some((extension) => /^tokenauth=true$/i.test(extension))) return 'delegation tokens are not supported';
  return { gs2Header: `${cbind},${authzField},`, bare, username, clientNonce };
}

/** saslname: ',' is sent as '=2C' and '=' as '=3D'; any other '=' is malformed (RFC 5802 section 5.1). */
function decodeSaslName(text: string): string | undefined {
  if (/=(?!2C|3D)/.test(text)) return undefined;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
