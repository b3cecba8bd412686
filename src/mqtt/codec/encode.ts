/** Encoders of every packet (the fixed header, then the variable header and payload). */
import type { AckPacket, ConnectPacket, Packet, ProtocolLevel, PublishPacket, SubscribePacket } from './packets.js';
import { ACK_HEADER, publishHeaderByte, publishLength, SHORT_ACK_BYTES, writePublish, writeShortAck } from './direct.js';
import { PacketType } from './packets.js';
import { writeProperties } from './properties.js';
import { MAX_VARINT } from './reader.js';
import { Writer } from './writer.js';

/** One packet's bytes for a connection at `level`. */
export function encodePacket(packet: Packet, level: ProtocolLevel): Buffer {
  if (packet.type === 'publish') return encodePublishPacket(packet, level === 5);
  if ((packet.type === 'puback' || packet.type === 'pubrec' || packet.type === 'pubrel' || packet.type === 'pubcomp') && (level !== 5 || (packet.reasonCode === 0 && packet.properties === undefined))) {
    // The hot acknowledgement: four bytes (3.4.2; 5.0 3.4.2.1 lets a success without properties end at the id).
    const out = Buffer.allocUnsafe(SHORT_ACK_BYTES);
    writeShortAck(out, 0, packet.type, packet.packetId);
    return out;
  }
  const v5 = level === 5;
  const body = new Writer(32);
  let typeAndFlags: number;
  switch (packet.type) {
    case 'connect':
      typeAndFlags = PacketType.Connect << 4;
      encodeConnect(body, packet);
      break;
    case 'connack':
      typeAndFlags = PacketType.Connack << 4;
      body.u8(packet.sessionPresent ? 1 : 0).u8(packet.reasonCode);
      if (v5) writeProperties(body, packet.properties);
      break;
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp':
      typeAndFlags = ACK_HEADER[packet.type];
      encodeAck(body, packet, v5);
      break;
    case 'subscribe':
      typeAndFlags = (PacketType.Subscribe << 4) | 2;
      encodeSubscribe(body, packet, v5);
      break;
    case 'suback':
      typeAndFlags = PacketType.Suback << 4;
      body.u16(packet.packetId);
      if (v5) writeProperties(body, packet.properties);
      for (const code of packet.reasonCodes) body.u8(code);
      break;
    case 'unsubscribe':
      typeAndFlags = (PacketType.Unsubscribe << 4) | 2;
      body.u16(packet.packetId);
      if (v5) writeProperties(body, packet.properties);
      for (const filter of packet.filters) body.string(filter);
      break;
    case 'unsuback':
      typeAndFlags = PacketType.Unsuback << 4;
      body.u16(packet.packetId);
      if (v5) {
        writeProperties(body, packet.properties);
        for (const code of packet.reasonCodes) body.u8(code);
      }
      break;
    case 'pingreq': typeAndFlags = PacketType.Pingreq << 4; break;
    case 'pingresp': typeAndFlags = PacketType.Pingresp << 4; break;
    case 'disconnect': case 'auth':
      typeAndFlags = (packet.type === 'auth' ? PacketType.Auth : PacketType.Disconnect) << 4;
      // 3.14.2.1: a plain success with no properties may be sent as remaining length 0.
      if (v5 && (packet.reasonCode !== 0 || packet.properties !== undefined)) {
        body.u8(packet.reasonCode);
        writeProperties(body, packet.properties);
      }
      break;
  }
  const out = new Writer(body.length + 5);
  out.u8(typeAndFlags).varint(body.length).bytes(body.toBuffer());
  return out.toBuffer();
}

function encodeConnect(w: Writer, p: ConnectPacket): void {
  w.string(p.protocolName).u8(p.protocolLevel);
  let flags = p.cleanStart ? 0x02 : 0;
  if (p.will !== undefined) flags |= 0x04 | (p.will.qos << 3) | (p.will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  w.u8(flags).u16(p.keepAlive);
  const v5 = p.protocolLevel === 5;
  if (v5) writeProperties(w, p.properties);
  w.string(p.clientId);
  if (p.will !== undefined) {
    if (v5) writeProperties(w, p.will.properties);
    w.string(p.will.topic).binary(p.will.payload);
  }
  if (p.username !== undefined) w.string(p.username);
  if (p.password !== undefined) w.binary(p.password);
}

/** PUBLISH: the payload is copied once, straight into the packet's buffer. */
function encodePublishPacket(p: PublishPacket, v5: boolean): Buffer {
  const topic = Buffer.from(p.topic, 'utf8');
  const properties = v5 ? encodeProperties(p.properties) : undefined;
  const packetId = p.qos > 0 ? (p.packetId ?? 0) : undefined;
  if (topic.length > 0xffff) throw new RangeError('topic longer than 65535 bytes');
  const length = publishLength(topic.length, packetId !== undefined, properties?.length ?? 0, p.payload.length);
  if (length > MAX_VARINT + 5) throw new RangeError(`PUBLISH of ${length} bytes is over the protocol's limit`);
  const out = Buffer.allocUnsafe(length);
  writePublish(out, 0, publishHeaderByte(p.dup, p.qos, p.retain), topic, packetId, properties, p.payload);
  return out;
}

/** 5.0 properties as bytes, their length prefix included. */
export function encodeProperties(properties: PublishPacket['properties']): Buffer {
  const w = new Writer(16);
  writeProperties(w, properties);
  return w.toBuffer();
}

function encodeAck(w: Writer, p: AckPacket, v5: boolean): void {
  w.u16(p.packetId);
  if (!v5) return;
  if (p.reasonCode === 0 && p.properties === undefined) return; // 3.4.2.1: may be left out
  w.u8(p.reasonCode);
  if (p.properties !== undefined) writeProperties(w, p.properties);
}

function encodeSubscribe(w: Writer, p: SubscribePacket, v5: boolean): void {
  w.u16(p.packetId);
  if (v5) writeProperties(w, p.properties);
  for (const s of p.subscriptions) {
    const options = s.qos | (v5 ? (s.noLocal ? 4 : 0) | (s.retainAsPublished ? 8 : 0) | (s.retainHandling << 4) : 0);
    w.string(s.filter).u8(options);
  }
}
