/** An in-process broker with an AMQP and an MQTT listener on ephemeral ports (optionally over a store, for restarts). */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import type { BrokerOptions } from '../../../src/broker/broker.js';
import { MqttListener, type MqttListenerOptions } from '../../../src/mqtt/server.js';

export interface MqttTestBroker extends TestBroker {
  mqttPort: number;
  mqttUrl: string;
  mqtt: MqttListener;
}

export async function startMqttBroker(options: { broker?: BrokerOptions; mqtt?: Partial<MqttListenerOptions> } = {}): Promise<MqttTestBroker> {
  const base = await startBroker(options.broker === undefined ? {} : { broker: options.broker });
  const listener = new MqttListener(base.broker, base.users, { host: '127.0.0.1', port: 0, ...options.mqtt });
  const { port } = await listener.listen();
  let closing: Promise<void> | undefined;
  return {
    ...base,
    mqttPort: port,
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    mqtt: listener,
    close: () => {
      closing ??= listener.close().then(() => base.close());
      return closing;
    },
  };
}

export interface Received {
  topic: string;
  payload: string;
  packet: mqtt.IPublishPacket;
}

const connacks = new WeakMap<MqttClient, mqtt.IConnackPacket>();

/** Whether the broker said it had the client's session (CONNACK session present). */
export function sessionPresent(client: MqttClient): boolean {
  return connacks.get(client)?.sessionPresent === true;
}

/** Connects; `received` (if given) collects messages from the very first one, even those sent with the CONNACK. */
export async function connectMqtt(url: string, options: IClientOptions = {}, received?: Received[]): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  if (received !== undefined) client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), packet }));
  client.once('connect', (connack) => connacks.set(client, connack));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return client;
}

/** Collects the messages a client receives. */
export function inbox(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), packet }));
  return received;
}

export async function endMqtt(client: MqttClient): Promise<void> {
  await client.endAsync();
}
