/**
 * SASL APIs (SaslHandshake, SaslAuthenticate), owned by the kafka-auth part: PLAIN against Warren's
 * password hashes, SCRAM-SHA-256/512 against the SCRAM credentials the user registry keeps.
 */
import type { KafkaApi } from '../api.js';
import { saslAuthenticate } from './sasl-authenticate.js';
import { saslHandshake } from './sasl-handshake.js';

export const authApis: readonly KafkaApi[] = [saslHandshake, saslAuthenticate];
