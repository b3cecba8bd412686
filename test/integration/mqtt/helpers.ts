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

export async function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
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
export function inbox(client: MqttClient): { topic: string; payload: string; packet: mqtt.IPublishPacket }[] {
  const received: { topic: string; payload: string; packet: mqtt.IPublishPacket }[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), packet }));
  return received;
}

export async function endMqtt(client: MqttClient): Promise<void> {
  await client.endAsync();
}
