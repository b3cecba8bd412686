/**
 * The door's API table: every Kafka API Warren serves, with its version range. ApiVersions answers
 * from it, the connection dispatches by it, and an API missing here is neither advertised nor served.
 * Consumer groups (groups/apis.ts) and SASL (auth/apis.ts) are their own parts' lists.
 */
import type { KafkaApi } from './api.js';
import { authApis } from './auth/apis.js';
import { groupApis } from './groups/apis.js';
import { apiVersions } from './handlers/api-versions.js';

export const coreApis: readonly KafkaApi[] = [apiVersions];

export function kafkaApis(): readonly KafkaApi[] {
  return [...coreApis, ...groupApis, ...authApis];
}
