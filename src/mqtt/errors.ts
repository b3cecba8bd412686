/** The core's error kinds as MQTT 5.0 reason codes (2.4); 3.1.1 has no codes beyond CONNACK's and SUBACK's 0x80. */
import { BrokerError, BrokerErrorKind } from '../broker/errors.js';
import { MqttProtocolError, Reason } from './codec/reason-codes.js';

export function reasonForError(error: unknown): { code: number; text: string } {
  if (error instanceof MqttProtocolError) return { code: error.reasonCode, text: error.message };
  if (error instanceof BrokerError) {
    switch (error.kind) {
      case BrokerErrorKind.AccessRefused: return { code: Reason.NotAuthorized, text: error.message };
      case BrokerErrorKind.ResourceLocked: return { code: Reason.NotAuthorized, text: error.message };
      case BrokerErrorKind.ResourceError: return { code: Reason.QuotaExceeded, text: error.message };
      case BrokerErrorKind.NotImplemented: return { code: Reason.ImplementationSpecificError, text: error.message };
      default: return { code: Reason.UnspecifiedError, text: error.message };
    }
  }
  return { code: Reason.UnspecifiedError, text: 'internal error' };
}
