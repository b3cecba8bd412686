/** Starts the MQTT door from its config: TCP, TLS when configured, and WebSocket at /mqtt on the HTTP server. */
import type { Server as HttpServer } from 'node:http';
import type { Logger } from 'pino';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { MqttConfig, TlsListenerConfig } from '../config/types.js';
import type { ListenAddress, Listener } from '../session/views.js';
import { MqttDoorState, MqttListener, type MqttListenerOptions } from './server.js';
import { attachMqttWebSocket } from './websocket.js';

export interface MqttStartContext {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly logger: Logger;
  /** The server's way of starting a listener (alarms, shutdown, the management API, the log line). */
  listen(listener: Listener, label: string): Promise<ListenAddress>;
  readTls(tls: TlsListenerConfig): Promise<NonNullable<MqttListenerOptions['tls']>>;
}

export async function startMqtt(config: MqttConfig, http: HttpServer, context: MqttStartContext): Promise<void> {
  const settings = { allowAnonymous: config.allowAnonymous, defaultVhost: config.vhost };
  const logger = context.logger.child({ component: 'mqtt' });
  const state = new MqttDoorState();
  const plain = new MqttListener(context.broker, context.users, { host: config.host, port: config.port, settings, state }, logger);
  await context.listen(plain, 'MQTT');
  attachMqttWebSocket(http, plain);
  if (config.tls === undefined) return;
  const tls = await context.readTls(config.tls);
  await context.listen(new MqttListener(context.broker, context.users, { host: config.tls.host, port: config.tls.port, tls, settings, state }, logger.child({ tls: true })), 'MQTTS');
}
