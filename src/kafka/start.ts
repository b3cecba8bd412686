/** Starts the Kafka door from its config (`kafka:`; README "Kafka"): the door's state and its TCP listener. */
import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { KafkaConfig } from '../config/types.js';
import type { ListenAddress, Listener } from '../session/views.js';
import { kafkaApis } from './apis.js';
import { DEFAULT_KAFKA_SETTINGS, KafkaDoor } from './door.js';
import { KafkaListener } from './server.js';

export interface KafkaStartContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  /** The server's way of starting a listener (alarms, shutdown, the management API, the log line). */
  listen(listener: Listener, label: string): Promise<ListenAddress>;
}

export interface StartedKafka {
  readonly door: KafkaDoor;
  readonly address: ListenAddress;
}

export async function startKafka(config: KafkaConfig, context: KafkaStartContext): Promise<StartedKafka> {
  const logger = context.logger.child({ component: 'kafka' });
  const door = new KafkaDoor(context.broker, context.users, {
    ...DEFAULT_KAFKA_SETTINGS,
    vhost: config.vhost,
    autoCreateTopics: config.autoCreateTopics,
    requireSasl: config.requireSasl,
    advertisedHost: config.advertisedHost,
    advertisedPort: config.advertisedPort,
    maxRequestBytes: config.maxRequestBytes,
    defaultPartitions: config.defaultPartitions,
  }, logger, kafkaApis());
  const listener = new KafkaListener(door, { host: config.host, port: config.port }, logger);
  const address = await context.listen(listener, 'Kafka');
  return { door, address };
}
