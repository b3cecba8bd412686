/**
 * Encoders that write a packet into a caller's buffer at an offset (an output block of
 * batched-output.ts) instead of returning a Buffer of their own: the packets of the delivery path,
 * PUBLISH and the four-byte acknowledgements. The caller reserves the length first.
 */
import { PacketType, type QoS } from './packets.js';
import { varintLength } from './reader.js';

/** First byte of PUBACK, PUBREC, PUBREL (flags 0010, 3.6.1) and PUBCOMP. */
export const ACK_HEADER = { puback: PacketType.Puback << 4, pubrec: PacketType.Pubrec << 4, pubrel: (PacketType.Pubrel << 4) | 2, pubcomp: PacketType.Pubcomp << 4 } as const;
export type AckKind = keyof typeof ACK_HEADER;

/** An acknowledgement without reason code or properties (3.4.2; 5.0 3.4.2.1 lets a success end at the id). */
export const SHORT_ACK_BYTES = 4;

/** The PUBLISH fixed header's first byte (3.3.1): type, DUP, QoS, RETAIN. */
export function publishHeaderByte(dup: boolean, qos: QoS, retain: boolean): number {
  return (PacketType.Publish << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
}

/**
 * Bytes of a PUBLISH whose topic takes `topicLength` UTF-8 bytes, with a packet id or not, 5.0
 * properties of `propertiesLength` encoded bytes (their length prefix included; 0 for 3.1.1) and a
 * payload.
 */
export function publishLength(topicLength: number, hasPacketId: boolean, propertiesLength: number, payloadLength: number): number {
  const remaining = 2 + topicLength + (hasPacketId ? 2 : 0) + propertiesLength + payloadLength;
  return 1 + varintLength(remaining) + remaining;
}

/**
 * Writes a PUBLISH at `at`: fixed header, remaining length, topic (its UTF-8 bytes), packet id (QoS 1
 * and 2), 5.0 properties (encoded with their length, or undefined for 3.1/3.1.1), payload. Returns the
 * bytes written (publishLength of the same parts).
 */
export function writePublish(target: Buffer, at: number, headerByte: number, topic: Buffer, packetId: number | undefined, properties: Buffer | undefined, payload: Buffer): number {
  let i = at;
  target[i++] = headerByte;
  const remaining = 2 + topic.length + (packetId === undefined ? 0 : 2) + (properties === undefined ? 0 : properties.length) + payload.length;
  i = writeVarint(target, i, remaining);
  target[i++] = topic.length >> 8;
  target[i++] = topic.length & 0xff;
  target.set(topic, i);
  i += topic.length;
  if (packetId !== undefined) {
    target[i++] = packetId >> 8;
    target[i++] = packetId & 0xff;
  }
  if (properties !== undefined) {
    target.set(properties, i);
    i += properties.length;
  }
  target.set(payload, i);
  return i + payload.length - at;
}

/** Writes a Variable Byte Integer (1.5.5, low 7 bits first; at most MAX_VARINT) at `at`; returns the offset after it. */
export function writeVarint(target: Buffer, at: number, value: number): number {
  let i = at;
  while (value >= 128) {
    target[i++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  target[i++] = value;
  return i;
}

/** Writes a four-byte PUBACK / PUBREC / PUBREL / PUBCOMP at `at`. */
export function writeShortAck(target: Buffer, at: number, kind: AckKind, packetId: number): void {
  target[at] = ACK_HEADER[kind];
  target[at + 1] = 2;
  target[at + 2] = packetId >> 8;
  target[at + 3] = packetId & 0xff;
}
