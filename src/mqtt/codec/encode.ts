/** Encoders of every packet (the fixed header, then the variable header and payload). */
import type { AckPacket, ConnectPacket, Packet, ProtocolLevel, PublishPacket, SubscribePacket } from './packets.js';
import { PacketType } from './packets.js';
import { writeProperties } from './properties.js';
import { Writer } from './writer.js';

const ACK_TYPES = { puback: PacketType.Puback, pubrec: PacketType.Pubrec, pubrel: PacketType.Pubrel, pubcomp: PacketType.Pubcomp } as const;

/** One packet's bytes for a connection at `level`. */
export function encodePacket(packet: Packet, level: ProtocolLevel): Buffer {
  if (packet.type === 'publish') return encodePublishPacket(packet, level === 5);
  if ((packet.type === 'puback' || packet.type === 'pubrec' || packet.type === 'pubrel' || packet.type === 'pubcomp') && (level !== 5 || (packet.reasonCode === 0 && packet.properties === undefined))) {
    // The hot acknowledgement: four bytes (3.4.2; 5.0 3.4.2.1 lets a success without properties end at the id).
    const out = Buffer.allocUnsafe(4);
    out[0] = (ACK_TYPES[packet.type] << 4) | (packet.type === 'pubrel' ? 2 : 0);
    out[1] = 2;
    out.writeUInt16BE(packet.packetId, 2);
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
      typeAndFlags = (ACK_TYPES[packet.type] << 4) | (packet.type === 'pubrel' ? 2 : 0);
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

/** PUBLISH, the hot path: the payload is copied once, straight into the packet's buffer. */
function encodePublishPacket(p: PublishPacket, v5: boolean): Buffer {
  const head = new Writer(p.topic.length + 16);
  head.string(p.topic);
  if (p.qos > 0) head.u16(p.packetId ?? 0);
  if (v5) writeProperties(head, p.properties);
  const remaining = head.length + p.payload.length;
  const fixed = new Writer(5);
  fixed.u8((PacketType.Publish << 4) | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0)).varint(remaining);
  const out = Buffer.allocUnsafe(fixed.length + remaining);
  fixed.toBuffer().copy(out, 0);
  head.toBuffer().copy(out, fixed.length);
  p.payload.copy(out, fixed.length + head.length);
  return out;
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
