import type { SaslExchange, SaslPeer } from './mechanism.js';
import { PlainExchange } from './plain.js';
import { SCRAM_MECHANISMS, ScramExchange, type ScramOptions } from './scram.js';

/** What SaslHandshake lists, in Kafka's spelling (case-sensitive, as Kafka compares them). */
export const SASL_MECHANISMS: readonly string[] = ['PLAIN', ...SCRAM_MECHANISMS.keys()];

/** A fresh exchange for the mechanism a client chose, or undefined when Warren does not offer it. */
export function startExchange(mechanism: string, peer: SaslPeer, options: ScramOptions): SaslExchange | undefined {
  if (mechanism === 'PLAIN') return new PlainExchange(peer);
  const hash = SCRAM_MECHANISMS.get(mechanism);
  return hash === undefined ? undefined : new ScramExchange(mechanism, hash, peer, options);
}
