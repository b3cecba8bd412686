/**
 * The door's API table: every Kafka API Warren serves, with its version range. ApiVersions answers
 * from it, the connection dispatches by it, and an API missing here is neither advertised nor served.
 * Consumer groups (groups/apis.ts) and SASL (auth/apis.ts) are their own parts' lists.
 */
import type { KafkaApi } from './api.js';
import { authApis } from './auth/apis.js';
import { groupApis } from './groups/apis.js';
import { apiVersions } from './handlers/api-versions.js';
import { createTopics } from './handlers/create-topics.js';
import { deleteTopics } from './handlers/delete-topics.js';
import { describeConfigs } from './handlers/describe-configs.js';
import { fetchRecords } from './handlers/fetch.js';
import { initProducerId } from './handlers/init-producer-id.js';
import { listOffsets } from './handlers/list-offsets.js';
import { metadata } from './handlers/metadata.js';
import { produce } from './handlers/produce.js';

/**
 * Version ranges are chosen for the clients in the tests (README "Kafka"): every version in a range is
 * served. librdkafka turns record batches on only if Produce covers v3 and Fetch v4, zstd if they
 * cover v7 and v10; @platformatic/kafka 1.x implements only Metadata v9+, Produce v7+, Fetch v12+,
 * ListOffsets v5+, CreateTopics v7, DeleteTopics v6, InitProducerId v3+; kafkajs uses only
 * non-flexible versions (it takes the highest it knows within the range); kafka-python 2.0 infers
 * broker 2.4 from Produce v8 and then sends Produce v7, Fetch v4, ListOffsets v1, Metadata v1.
 */
export const coreApis: readonly KafkaApi[] = [produce, fetchRecords, listOffsets, metadata, apiVersions, createTopics, deleteTopics, initProducerId, describeConfigs];

export function kafkaApis(): readonly KafkaApi[] {
  return [...coreApis, ...groupApis, ...authApis];
}
