/**
 * SaslHandshake (key 17), v0-v1 (KIP-43, KIP-152): the client names a mechanism; the answer lists the
 * ones Warren offers. v0: the SASL tokens then travel as bare size-prefixed frames (what kafka-python
 * 2.0 does); v1: in SaslAuthenticate requests (librdkafka, kafkajs, the Java client).
 *
 *   request:  mechanism STRING
 *   response: error_code INT16, mechanisms [STRING]
 */
import type { KafkaApi, KafkaRequest, ResponseBody } from '../api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';
import { SASL_MECHANISMS } from './mechanisms.js';
import type { SaslExchange } from './mechanism.js';
import { beginExchange, saslPhase, setSaslPhase, settleStep } from './sasl-state.js';

export const saslHandshake: KafkaApi = {
  key: ApiKey.SaslHandshake,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: undefined,
  handle(session: KafkaSession, request: KafkaRequest): ResponseBody {
    const mechanism = request.body.string();
    // Kafka answers a second handshake, once authenticated, with ILLEGAL_SASL_STATE (KafkaApis).
    if (saslPhase(session).at !== 'start') return answer(ErrorCode.ILLEGAL_SASL_STATE);
    const exchange = beginExchange(session, mechanism);
    if (exchange === undefined) {
      session.logger.warn({ mechanism }, 'Kafka client asked for an unsupported SASL mechanism');
      return answer(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
    }
    if (request.header.apiVersion === 0) rawTokens(session, exchange);
    else setSaslPhase(session, { at: 'exchanging', exchange });
    return answer(ErrorCode.NONE);
  },
};

function answer(errorCode: number): ResponseBody {
  return (writer) => {
    writer.int16(errorCode);
    writer.array(SASL_MECHANISMS, (w, name) => void w.string(name));
  };
}

/**
 * SaslHandshake v0: the frames after this one are SASL tokens with only a size prefix. Set now, in
 * this turn, so the very next frame goes to the exchange. A refusal cannot be told in-band: the
 * connection closes (KIP-43), which is what clients of this flow expect.
 */
function rawTokens(session: KafkaSession, exchange: SaslExchange): void {
  setSaslPhase(session, { at: 'exchanging', exchange });
  session.rawFrameHandler = (frame) => {
    const step = settleStep(session, exchange.mechanism, exchange.step(frame));
    if (step.kind === 'challenge') return step.token;
    session.rawFrameHandler = undefined;
    if (step.kind === 'success') return step.token;
    session.close(`SASL ${exchange.mechanism} authentication failed: ${step.reason}`);
    return undefined;
  };
}

