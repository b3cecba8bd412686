/**
 * SASL APIs (SaslHandshake, SaslAuthenticate): owned by the kafka-auth part (K3). Until it lands the
 * list is empty: ApiVersions does not advertise them, clients do not try SASL, and every client is
 * `guest` (accepted from loopback only).
 */
import type { KafkaApi } from '../api.js';

export const authApis: readonly KafkaApi[] = [];
