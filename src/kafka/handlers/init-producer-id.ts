/**
 * InitProducerId (key 22), v0-v4 (v2+ flexible): a producer id and epoch for idempotent producers
 * (producers.ts); a new id is answered once its block of ids is durable (producer-ids.ts), so no
 * restart hands it out again. Transactions are not offered: a transactional id is refused with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which clients report as "transactions not allowed" rather
 * than retrying forever.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { producerRegistry } from '../producers.js';
import { ProducerIdsUnavailable } from '../producer-ids.js';

export const initProducerId: KafkaApi = {
  key: ApiKey.InitProducerId,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  async handle(session, request): Promise<ResponseBody> {
    const version = request.header.apiVersion;
    const body = request.body;
    const transactionalId = body.nullableString();
    body.int32(); // transaction_timeout_ms
    const existing = version >= 3 ? body.int64() : undefined;
    const epoch = version >= 3 ? body.int16() : undefined;
    body.taggedFields();
    let error: number = ErrorCode.NONE;
    let producerId = -1n;
    let producerEpoch = -1;
    if (transactionalId !== null) {
      error = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else {
      const given = existing !== undefined && existing >= 0n ? existing : undefined;
      try {
        const granted = await producerRegistry(session).initProducer(given, given === undefined ? undefined : epoch);
        if (granted.producerId < 0n) error = ErrorCode.INVALID_PRODUCER_EPOCH;
        producerId = granted.producerId;
        producerEpoch = granted.epoch;
      } catch (failure) {
        if (!(failure instanceof ProducerIdsUnavailable)) throw failure;
        error = ErrorCode.COORDINATOR_NOT_AVAILABLE; // retriable, as when Kafka's coordinator is away
      }
    }
    return (w) => {
      w.int32(0).int16(error).int64(producerId).int16(producerEpoch);
      w.taggedFields();
    };
  },
};
