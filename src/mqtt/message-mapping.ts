/**
 * MQTT PUBLISH <-> the core's Message, so AMQP consumers read MQTT messages and the other way round
 * (RabbitMQ's mapping: QoS 1 and 2 are persistent, delivery mode 2 makes an AMQP message QoS 1).
 * 5.0's properties map onto AMQP ones where one exists, the rest onto headers.
 */
import { fieldNumber, Message, type BasicProperties, type FieldTable } from '../broker/message.js';
import type { Properties, PublishPacket, QoS } from './codec/packets.js';
import { routingKeyToTopic, topicToRoutingKey } from './topics.js';

export const TOPIC_EXCHANGE = 'amq.topic';
const QOS_HEADER = 'x-mqtt-publish-qos';
const RETAIN_HEADER = 'x-mqtt-retain';
const FORMAT_HEADER = 'x-mqtt-payload-format';
/** Correlation data that is not UTF-8 text cannot be an AMQP correlation-id (a short string). */
const CORRELATION_HEADER = 'x-correlation-id';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The core's Message for a PUBLISH to `topic` (whose routing key a caller may have at hand). */
export function publishToMessage(packet: PublishPacket, topic: string, routingKey = topicToRoutingKey(topic)): Message {
  const p = packet.properties;
  // A literal key (QOS_HEADER's value), not a computed one: this object is made for every publish.
  const headers: FieldTable = { 'x-mqtt-publish-qos': packet.qos };
  if (packet.retain) headers[RETAIN_HEADER] = true;
  if (p.payloadFormatIndicator !== undefined) headers[FORMAT_HEADER] = p.payloadFormatIndicator;
  if (p.userProperties !== undefined) for (const [key, value] of p.userProperties) headers[key] = value;
  const properties: BasicProperties = { deliveryMode: packet.qos > 0 ? 2 : 1, headers };
  if (p.contentType !== undefined) properties.contentType = p.contentType;
  if (p.responseTopic !== undefined) properties.replyTo = topicToRoutingKey(p.responseTopic);
  if (p.messageExpiryInterval !== undefined) properties.expiration = String(p.messageExpiryInterval * 1000);
  if (p.correlationData !== undefined) {
    const text = textOf(p.correlationData);
    if (text !== undefined && text.length <= 255) properties.correlationId = text;
    else headers[CORRELATION_HEADER] = p.correlationData;
  }
  return new Message(TOPIC_EXCHANGE, routingKey, properties, packet.payload);
}

function textOf(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The QoS it was published with: MQTT's own header, else AMQP persistence (persistent = 1). */
export function publishedQos(message: Message): QoS {
  const qos = fieldNumber(message.properties.headers?.[QOS_HEADER]);
  if (qos === 0 || qos === 1 || qos === 2) return qos;
  return message.persistent ? 1 : 0;
}

export function publishedRetained(message: Message): boolean {
  return message.properties.headers?.[RETAIN_HEADER] === true;
}

/** Seconds left of a message's own expiry; undefined without one; <= 0 once expired. */
export function remainingExpirySeconds(message: Message, now: number): number | undefined {
  const expiration = message.properties.expiration;
  if (expiration === undefined) return undefined;
  const ms = Number(expiration) - (now - message.publishedAt);
  return Math.ceil(ms / 1000);
}

/** The 5.0 properties a subscriber gets for a message. */
export function messageProperties(message: Message, now: number): Properties {
  const props = message.properties;
  const out: Properties = {};
  if (props.contentType !== undefined) out.contentType = props.contentType;
  if (props.replyTo !== undefined) out.responseTopic = routingKeyToTopic(props.replyTo);
  const remaining = remainingExpirySeconds(message, now);
  if (remaining !== undefined) out.messageExpiryInterval = Math.max(1, remaining);
  const headers = props.headers ?? {};
  const binaryCorrelation = headers[CORRELATION_HEADER];
  if (Buffer.isBuffer(binaryCorrelation)) out.correlationData = binaryCorrelation;
  else if (props.correlationId !== undefined) out.correlationData = Buffer.from(props.correlationId, 'utf8');
  const format = fieldNumber(headers[FORMAT_HEADER]);
  if (format === 0 || format === 1) out.payloadFormatIndicator = format;
  const user: [string, string][] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (key.startsWith('x-mqtt-') || key === CORRELATION_HEADER) continue;
    if (typeof value === 'string') user.push([key, value]);
    else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') user.push([key, String(value)]);
    else if (Buffer.isBuffer(value)) user.push([key, value.toString('utf8')]);
  }
  if (user.length > 0) out.userProperties = user;
  return out;
}
