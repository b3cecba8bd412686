/** Decoders of each packet's variable header and payload (MQTT 3.1.1 ch. 3, MQTT 5.0 ch. 3). */
import type {
  AckPacket, ConnackPacket, ConnectPacket, Packet, ProtocolLevel, Properties, PublishPacket, QoS,
  SubscribePacket, SubscriptionRequest, UnsubackPacket, UnsubscribePacket, Will,
} from './packets.js';
import { PacketType } from './packets.js';
import { readProperties } from './properties.js';
import { malformed, MqttProtocolError, protocolError, Reason } from './reason-codes.js';
import { Reader, type LastString } from './reader.js';

const NO_PROPERTIES: Properties = Object.freeze({}) as Properties;

/**
 * Decodes one complete packet body, bytes[start, end) (no view of its own is made); `level` is the
 * connection's protocol level (5 reads properties); `lastTopic` lets a PUBLISH that repeats the
 * previous topic skip decoding it.
 */
export function decodePacket(type: number, flags: number, bytes: Buffer, start: number, end: number, level: ProtocolLevel, lastTopic?: LastString): Packet {
  checkFlags(type, flags);
  const r = new Reader(bytes, end);
  r.offset = start;
  const v5 = level === 5;
  let packet: Packet;
  switch (type) {
    case PacketType.Connect: packet = decodeConnect(r); break;
    case PacketType.Connack: packet = decodeConnack(r, v5); break;
    case PacketType.Publish: packet = decodePublish(r, flags, v5, lastTopic); break;
    case PacketType.Puback: packet = decodeAck(r, 'puback', v5); break;
    case PacketType.Pubrec: packet = decodeAck(r, 'pubrec', v5); break;
    case PacketType.Pubrel: packet = decodeAck(r, 'pubrel', v5); break;
    case PacketType.Pubcomp: packet = decodeAck(r, 'pubcomp', v5); break;
    case PacketType.Subscribe: packet = decodeSubscribe(r, v5); break;
    case PacketType.Suback: packet = { type: 'suback', packetId: r.u16(), ...codesAfterProperties(r, v5) }; break;
    case PacketType.Unsubscribe: packet = decodeUnsubscribe(r, v5); break;
    case PacketType.Unsuback: packet = decodeUnsuback(r, v5); break;
    case PacketType.Pingreq: packet = { type: 'pingreq' }; break;
    case PacketType.Pingresp: packet = { type: 'pingresp' }; break;
    case PacketType.Disconnect: packet = { type: 'disconnect', ...reasonAndProperties(r, v5) }; break;
    case PacketType.Auth:
      if (!v5) throw malformed('AUTH exists only in MQTT 5.0');
      packet = { type: 'auth', ...reasonAndProperties(r, v5) };
      break;
    default: throw malformed(`reserved packet type ${type}`);
  }
  if (r.remaining !== 0) throw malformed(`${packet.type} packet has ${r.remaining} bytes after its contents`);
  return packet;
}

/** 2.1.3: PUBREL, SUBSCRIBE and UNSUBSCRIBE carry flags 0010, PUBLISH its own, every other packet 0000. */
function checkFlags(type: number, flags: number): void {
  if (type === PacketType.Publish) {
    if ((flags & 0x06) === 0x06) throw malformed('PUBLISH with QoS 3');
    return;
  }
  const expected = type === PacketType.Pubrel || type === PacketType.Subscribe || type === PacketType.Unsubscribe ? 2 : 0;
  if (flags !== expected) throw malformed(`packet type ${type} with reserved flags ${flags}`);
}

function decodeConnect(r: Reader): ConnectPacket {
  const protocolName = r.string();
  const level = r.u8();
  const known = (protocolName === 'MQTT' && (level === 4 || level === 5)) || (protocolName === 'MQIsdp' && level === 3);
  // 3.1.2.2: an unsupported level gets CONNACK 0x01 (0x84 in 5.0), then the connection closes.
  if (!known) throw new MqttProtocolError(Reason.UnsupportedProtocolVersion, `unsupported protocol ${protocolName} level ${level}`);
  const protocolLevel = level as ProtocolLevel;
  const v5 = protocolLevel === 5;
  const flags = r.u8();
  if ((flags & 0x01) !== 0) throw malformed('CONNECT reserved flag set');
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  const hasUsername = (flags & 0x80) !== 0;
  if (willQos === 3) throw malformed('will QoS 3');
  if (!hasWill && (willQos !== 0 || willRetain)) throw malformed('will QoS or retain without a will');
  // 3.1.2.9 (3.1.1): a password without a user name is not allowed; 5.0 allows it.
  if (!v5 && hasPassword && !hasUsername) throw malformed('password without user name');
  const keepAlive = r.u16();
  const properties = v5 ? readProperties(r) : NO_PROPERTIES;
  const clientId = r.string();
  let will: Will | undefined;
  if (hasWill) {
    const willProperties = v5 ? readProperties(r) : NO_PROPERTIES;
    const topic = r.string();
    const payload = Buffer.from(r.binary());
    will = { topic, payload, qos: willQos as QoS, retain: willRetain, properties: willProperties };
  }
  const username = hasUsername ? r.string() : undefined;
  const password = hasPassword ? Buffer.from(r.binary()) : undefined;
  return { type: 'connect', protocolName, protocolLevel, cleanStart: (flags & 0x02) !== 0, keepAlive, clientId, will, username, password, properties };
}

function decodeConnack(r: Reader, v5: boolean): ConnackPacket {
  const ack = r.u8();
  if ((ack & 0xfe) !== 0) throw malformed('CONNACK reserved flags set');
  const reasonCode = r.u8();
  return v5
    ? { type: 'connack', sessionPresent: (ack & 1) === 1, reasonCode, properties: readProperties(r) }
    : { type: 'connack', sessionPresent: (ack & 1) === 1, reasonCode };
}

function decodePublish(r: Reader, flags: number, v5: boolean, lastTopic: LastString | undefined): PublishPacket {
  const qos = ((flags >> 1) & 0x03) as QoS;
  const dup = (flags & 0x08) !== 0;
  // 3.3.1.1: DUP must be 0 for QoS 0.
  if (qos === 0 && dup) throw malformed('DUP set on a QoS 0 PUBLISH');
  const topic = lastTopic === undefined ? r.string() : r.repeatedString(lastTopic);
  let packetId: number | undefined;
  if (qos > 0) {
    packetId = r.u16();
    if (packetId === 0) throw malformed('packet identifier 0');
  }
  const properties = v5 ? readProperties(r) : NO_PROPERTIES;
  return { type: 'publish', dup, qos, retain: (flags & 0x01) !== 0, topic, packetId, payload: r.rest(), properties };
}

function decodeAck(r: Reader, type: AckPacket['type'], v5: boolean): AckPacket {
  const packetId = r.u16();
  // 3.4.2.1 (5.0): with remaining length 2 the reason is 0x00 and there are no properties.
  if (!v5 || r.remaining === 0) return { type, packetId, reasonCode: 0 };
  const reasonCode = r.u8();
  if (r.remaining === 0) return { type, packetId, reasonCode };
  return { type, packetId, reasonCode, properties: readProperties(r) };
}

function decodeSubscribe(r: Reader, v5: boolean): SubscribePacket {
  const packetId = r.u16();
  if (packetId === 0) throw malformed('packet identifier 0');
  const properties = v5 ? readProperties(r) : NO_PROPERTIES;
  const subscriptions: SubscriptionRequest[] = [];
  while (r.remaining > 0) {
    const filter = r.string();
    const options = r.u8();
    const qos = options & 0x03;
    const retainHandling = (options >> 4) & 0x03;
    if (qos === 3) throw malformed('subscription QoS 3');
    // 3.8.3.1: reserved bits must be 0 (3.1.1 has only the QoS bits).
    if ((options & (v5 ? 0xc0 : 0xfc)) !== 0) throw malformed('subscription options reserved bits set');
    if (retainHandling === 3) throw protocolError('retain handling 3');
    subscriptions.push({ filter, qos: qos as QoS, noLocal: (options & 0x04) !== 0, retainAsPublished: (options & 0x08) !== 0, retainHandling: retainHandling as 0 | 1 | 2 });
  }
  // 3.8.3: a SUBSCRIBE with no topic filter is a Protocol Error.
  if (subscriptions.length === 0) throw protocolError('SUBSCRIBE without topic filters');
  return { type: 'subscribe', packetId, subscriptions, properties };
}

function decodeUnsubscribe(r: Reader, v5: boolean): UnsubscribePacket {
  const packetId = r.u16();
  if (packetId === 0) throw malformed('packet identifier 0');
  const properties = v5 ? readProperties(r) : NO_PROPERTIES;
  const filters: string[] = [];
  while (r.remaining > 0) filters.push(r.string());
  if (filters.length === 0) throw protocolError('UNSUBSCRIBE without topic filters');
  return { type: 'unsubscribe', packetId, filters, properties };
}

function decodeUnsuback(r: Reader, v5: boolean): UnsubackPacket {
  const packetId = r.u16();
  if (!v5) return { type: 'unsuback', packetId, reasonCodes: [] };
  return { type: 'unsuback', packetId, ...codesAfterProperties(r, v5) };
}

function codesAfterProperties(r: Reader, v5: boolean): { reasonCodes: number[]; properties?: Properties } {
  const properties = v5 ? readProperties(r) : undefined;
  const reasonCodes: number[] = [];
  while (r.remaining > 0) reasonCodes.push(r.u8());
  return properties === undefined ? { reasonCodes } : { reasonCodes, properties };
}

/** DISCONNECT and AUTH (5.0): reason and properties may both be left out (3.14.2.1). */
function reasonAndProperties(r: Reader, v5: boolean): { reasonCode: number; properties?: Properties } {
  if (!v5 || r.remaining === 0) return { reasonCode: 0 };
  const reasonCode = r.u8();
  if (r.remaining === 0) return { reasonCode };
  return { reasonCode, properties: readProperties(r) };
}
