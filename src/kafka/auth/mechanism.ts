import type { User, UserRegistry } from '../../auth/users.js';

/**
 * One SASL exchange (RFC 4422) as a pure state machine: tokens in, tokens out, no sockets. The Kafka
 * door carries the tokens in SaslAuthenticate requests (SaslHandshake v1) or as bare size-prefixed
 * frames (SaslHandshake v0, KIP-43); the exchange does not care which.
 */
export type SaslStep =
  /** Send `token` to the client and wait for its next one. */
  | { kind: 'challenge'; token: Buffer }
  /** Authenticated: send `token` (possibly empty) as the last server message. */
  | { kind: 'success'; token: Buffer; user: User }
  /**
   * Refused. `reason` may go to the client (it never says whether the user exists); `detail`, when
   * set, is for the broker's log only (e.g. a user who has no SCRAM credentials yet).
   */
  | { kind: 'failure'; reason: string; detail?: string };

export interface SaslExchange {
  readonly mechanism: string;
  step(token: Buffer): SaslStep;
}

export interface SaslPeer {
  readonly users: UserRegistry;
  /** The client's address, for the loopback rule (guest only from the local machine). */
  readonly remoteAddress: string;
}

export function failure(reason: string, detail?: string): SaslStep {
  return detail === undefined ? { kind: 'failure', reason } : { kind: 'failure', reason, detail };
}
