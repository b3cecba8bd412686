/**
 * SaslAuthenticate (key 36), v0-v2 (KIP-152; v1 adds session_lifetime_ms, KIP-368; v2 is flexible):
 * one SASL token each way per request, after SaslHandshake v1 chose the mechanism.
 *
 *   request:  auth_bytes BYTES
 *   response: error_code INT16, error_message NULLABLE_STRING, auth_bytes BYTES, [v1+] session_lifetime_ms INT64
 *
 * A refused exchange answers SASL_AUTHENTICATION_FAILED and then closes that connection, as Kafka does.
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';
import { closeSoon, saslPhase, setSaslPhase, settleStep } from './sasl-state.js';

export const saslAuthenticate: KafkaApi = {
  key: ApiKey.SaslAuthenticate,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const token = request.body.bytes() ?? Buffer.alloc(0);
    request.body.taggedFields();
    const version = request.header.apiVersion;
    const phase = saslPhase(session);
    if (phase.at !== 'exchanging') {
      const message = phase.at === 'authenticated' ? 'SaslAuthenticate request received after successful authentication' : 'SaslAuthenticate before SaslHandshake v1';
      if (phase.at === 'start') closeSoon(session, message);
      return answer(version, ErrorCode.ILLEGAL_SASL_STATE, message);
    }
    const step = settleStep(session, phase.exchange.mechanism, phase.exchange.step(token));
    if (step.kind === 'failure') {
      setSaslPhase(session, { at: 'start' });
      closeSoon(session, `SASL ${phase.exchange.mechanism} authentication failed: ${step.reason}`);
      return answer(version, ErrorCode.SASL_AUTHENTICATION_FAILED, `Authentication failed: ${step.reason}`);
    }
    return answer(version, ErrorCode.NONE, null, step.token);
  },
};

function answer(version: number, errorCode: number, message: string | null, token: Buffer = Buffer.alloc(0)): ResponseBody {
  return (writer) => {
    writer.int16(errorCode);
    writer.nullableString(message);
    writer.bytes(token);
    // 0: the session never has to re-authenticate (KIP-368 re-authentication is not offered).
    if (version >= 1) writer.int64Number(0);
    writer.taggedFields();
  };
}
