/**
 * Kafka over TLS: a second KafkaListener of the same door (same table, settings and gates) on a
 * node:tls server. SASL works over it as over TCP (Kafka's SASL_SSL); without SASL a client is guest
 * from loopback only, as on the TCP port. Client certificates are not asked for (no mTLS principal).
 */
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import type { TlsListenerConfig } from '../../config/types.js';
import type { ListenAddress, Listener } from '../../session/views.js';
import type { KafkaDoor } from '../door.js';
import { KafkaListener } from '../server.js';

export interface TlsFiles {
  cert: Buffer | string;
  key: Buffer | string;
  ca?: Buffer | string;
}

export interface KafkaTlsContext {
  listen(listener: Listener, label: string): Promise<ListenAddress>;
  readTls(tls: TlsListenerConfig): Promise<TlsFiles>;
}

/** Clients that never finish the TLS handshake are dropped after this long. */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export async function startKafkaTls(door: KafkaDoor, config: TlsListenerConfig, context: KafkaTlsContext, logger: Logger): Promise<ListenAddress> {
  const files = await context.readTls(config);
  const tlsLogger = logger.child({ tls: true });
  const listener = new KafkaListener(door, {
    host: config.host,
    port: config.port,
    protocol: 'kafka/ssl',
    createServer: (onSocket) => {
      const server = createTlsServer({ ...files, handshakeTimeout: HANDSHAKE_TIMEOUT_MS }, onSocket);
      server.on('tlsClientError', (err) => tlsLogger.debug({ err }, 'Kafka TLS handshake failed'));
      return server;
    },
  }, tlsLogger);
  return context.listen(listener, 'Kafka TLS');
}
