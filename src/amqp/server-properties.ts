import type { FieldTable } from '../broker/message.js';
import { WARREN_VERSION } from '../version.js';

/**
 * Capabilities exactly as current RabbitMQ announces them in connection.start, so clients switch on the
 * same features (amqplib and pika only use confirms, cancel notifications and blocked notifications if
 * the broker lists them).
 */
export const SERVER_CAPABILITIES: Readonly<FieldTable> = Object.freeze({
  publisher_confirms: true,
  exchange_exchange_bindings: true,
  'basic.nack': true,
  consumer_cancel_notify: true,
  'connection.blocked': true,
  consumer_priorities: true,
  authentication_failure_close: true,
  per_consumer_qos: true,
  direct_reply_to: true,
});

export const SASL_MECHANISMS = 'PLAIN AMQPLAIN';
export const LOCALES = 'en_US';

/** server-properties of connection.start (spec: peer-properties; RabbitMQ's keys). */
export function serverProperties(clusterName?: string): FieldTable {
  const props: FieldTable = {
    product: 'Warren',
    version: WARREN_VERSION,
    platform: `Node.js ${process.version}`,
    copyright: 'Copyright (c) the Warren authors',
    information: 'Licensed under the Apache License 2.0',
    capabilities: { ...SERVER_CAPABILITIES },
  };
  if (clusterName !== undefined) props['cluster_name'] = clusterName;
  return props;
}
