import type { KafkaConfig, TlsListenerConfig, WarrenConfig } from './types.js';
import { ConfigError } from './types.js';

export const DEFAULT_KAFKA_TLS_PORT = 9093;

interface KafkaTlsKeys {
  host?: string;
  tlsPort?: number;
  cert?: string;
  key?: string;
  ca?: string;
}

/**
 * Kafka over TLS (the door's second listener, Kafka's SSL / SASL_SSL listener): on when `kafka.tlsPort`
 * is set, or when the kafka section names its own cert and key (then on 9093). The certificate is the
 * kafka section's, else the AMQPS one (as STOMP's TLS port does), so one certificate can serve all doors.
 */
export function withKafkaTls(kafka: KafkaConfig | undefined, merged: KafkaTlsKeys, amqps: WarrenConfig['amqps']): KafkaConfig | undefined {
  if (kafka === undefined) return undefined;
  const { tlsPort, cert, key, ca } = merged;
  if ((cert === undefined) !== (key === undefined)) throw new ConfigError(`kafka TLS needs both cert and key (only ${cert === undefined ? 'key' : 'cert'} is set)`);
  if (tlsPort === undefined && cert === undefined) return kafka;
  const files: Pick<TlsListenerConfig, 'cert' | 'key' | 'ca'> | undefined = cert !== undefined && key !== undefined ? { cert, key, ca } : amqps === undefined ? undefined : { cert: amqps.cert, key: amqps.key, ca: ca ?? amqps.ca };
  if (files === undefined) throw new ConfigError('kafka.tlsPort needs a certificate and key: kafka.cert and kafka.key (--kafka-tls-cert, --kafka-tls-key), or the amqps ones');
  return { ...kafka, tls: { host: kafka.host, port: tlsPort ?? DEFAULT_KAFKA_TLS_PORT, ...files } };
}
