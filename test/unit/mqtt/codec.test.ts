import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePacket, MqttParser, MqttProtocolError, Reason, type Packet, type ProtocolLevel } from '../../../src/mqtt/codec/index.js';

function parseAll(bytes: Buffer, level: ProtocolLevel, oneByteAtATime = false): Packet[] {
  const parser = new MqttParser({ maxPacketSize: 1 << 20 });
  parser.level = level;
  const out: Packet[] = [];
  if (oneByteAtATime) for (const b of bytes) parser.push(Buffer.from([b]), (p) => out.push(p));
  else parser.push(bytes, (p) => out.push(p));
  return out;
}

function normal(p: Packet): unknown {
  return JSON.parse(JSON.stringify(p));
}

test('CONNECT 3.1.1 encodes to the spec example bytes (3.1.2.10 figure)', () => {
  const bytes = encodePacket({
    type: 'connect', protocolName: 'MQTT', protocolLevel: 4, cleanStart: true, keepAlive: 10, clientId: 'a',
    will: undefined, username: 'u', password: Buffer.from('p'), properties: {},
  }, 4);
  assert.deepEqual([...bytes], [0x10, 19, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0xc2, 0, 10, 0, 1, 0x61, 0, 1, 0x75, 0, 1, 0x70]);
});

test('PUBLISH QoS 1 and PUBACK bytes (3.3, 3.4)', () => {
  const publish = encodePacket({ type: 'publish', dup: false, qos: 1, retain: true, topic: 'a/b', packetId: 10, payload: Buffer.from('hi'), properties: {} }, 4);
  assert.deepEqual([...publish], [0x33, 9, 0, 3, 0x61, 0x2f, 0x62, 0, 10, 0x68, 0x69]);
  assert.deepEqual([...encodePacket({ type: 'puback', packetId: 10, reasonCode: 0 }, 5)], [0x40, 2, 0, 10]);
  assert.deepEqual([...encodePacket({ type: 'puback', packetId: 10, reasonCode: 0x10 }, 5)], [0x40, 3, 0, 10, 0x10]);
  assert.deepEqual([...encodePacket({ type: 'pubrel', packetId: 1, reasonCode: 0 }, 4)], [0x62, 2, 0, 1]);
  assert.deepEqual([...encodePacket({ type: 'pingreq' }, 4)], [0xc0, 0]);
  assert.deepEqual([...encodePacket({ type: 'disconnect', reasonCode: 0 }, 5)], [0xe0, 0]);
});

test('variable byte integers: 127, 128, 16383, 16384 and the maximum (1.5.5)', () => {
  for (const [size, header] of [[127, [0x7f]], [128, [0x80, 0x01]], [16383, [0xff, 0x7f]], [16384, [0x80, 0x80, 0x01]]] as const) {
    const payload = Buffer.alloc(size - 5); // topic 'a' (3 bytes) + packet id (2)
    const bytes = encodePacket({ type: 'publish', dup: false, qos: 1, retain: false, topic: 'a', packetId: 1, payload, properties: {} }, 4);
    assert.deepEqual([...bytes.subarray(1, 1 + header.length)], header, `remaining length ${size}`);
    assert.equal((parseAll(bytes, 4)[0] as { payload: Buffer }).payload.length, size - 5);
  }
});

const V5_PACKETS: Packet[] = [
  {
    type: 'connect', protocolName: 'MQTT', protocolLevel: 5, cleanStart: false, keepAlive: 60, clientId: 'dev-1',
    will: { topic: 'w/t', payload: Buffer.from('gone'), qos: 1, retain: true, properties: { willDelayInterval: 5, contentType: 'text/plain' } },
    username: '/:guest', password: Buffer.from('guest'),
    properties: { sessionExpiryInterval: 3600, receiveMaximum: 10, maximumPacketSize: 4096, topicAliasMaximum: 5, userProperties: [['a', 'b'], ['a', 'c']] },
  },
  { type: 'connack', sessionPresent: true, reasonCode: 0, properties: { assignedClientIdentifier: 'x', topicAliasMaximum: 16, retainAvailable: 1 } },
  {
    type: 'publish', dup: true, qos: 2, retain: false, topic: 'a/b/c', packetId: 65535, payload: Buffer.from([0, 1, 2]),
    properties: { messageExpiryInterval: 30, topicAlias: 3, responseTopic: 'r/1', correlationData: Buffer.from('id'), subscriptionIdentifiers: [1, 268435455], payloadFormatIndicator: 1 },
  },
  { type: 'publish', dup: false, qos: 0, retain: true, topic: 'x', packetId: undefined, payload: Buffer.alloc(0), properties: {} },
  { type: 'puback', packetId: 1, reasonCode: 0x10, properties: { reasonString: 'no subscribers' } },
  { type: 'pubrec', packetId: 2, reasonCode: 0 },
  { type: 'pubrel', packetId: 3, reasonCode: 0x92 },
  { type: 'pubcomp', packetId: 4, reasonCode: 0 },
  { type: 'subscribe', packetId: 7, subscriptions: [{ filter: 'a/+/#', qos: 1, noLocal: true, retainAsPublished: true, retainHandling: 2 }, { filter: '$share/g/t', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: { subscriptionIdentifiers: [9] } },
  { type: 'suback', packetId: 7, reasonCodes: [1, 0x87], properties: {} },
  { type: 'unsubscribe', packetId: 8, filters: ['a/+/#', 'b'], properties: { userProperties: [['k', 'v']] } },
  { type: 'unsuback', packetId: 8, reasonCodes: [0, 0x11], properties: {} },
  { type: 'pingreq' },
  { type: 'pingresp' },
  { type: 'disconnect', reasonCode: 0x8e, properties: { reasonString: 'taken over' } },
  { type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'SCRAM', authenticationData: Buffer.from('d') } },
];

test('every MQTT 5.0 packet round-trips, whole and one byte at a time', () => {
  const stream = Buffer.concat(V5_PACKETS.map((p) => encodePacket(p, 5)));
  assert.deepEqual(parseAll(stream, 5).map(normal), V5_PACKETS.map(normal));
  assert.deepEqual(parseAll(stream, 5, true).map(normal), V5_PACKETS.map(normal));
});

test('3.1.1 packets round-trip without properties', () => {
  const packets: Packet[] = [
    { type: 'connect', protocolName: 'MQTT', protocolLevel: 4, cleanStart: true, keepAlive: 0, clientId: '', will: { topic: 't', payload: Buffer.from('w'), qos: 2, retain: false, properties: {} }, username: undefined, password: undefined, properties: {} },
    { type: 'connack', sessionPresent: false, reasonCode: 5 },
    { type: 'subscribe', packetId: 1, subscriptions: [{ filter: '#', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 }], properties: {} },
    { type: 'suback', packetId: 1, reasonCodes: [2, 0x80] },
    { type: 'unsuback', packetId: 2, reasonCodes: [] },
    { type: 'puback', packetId: 9, reasonCode: 0 },
  ];
  const stream = Buffer.concat(packets.map((p) => encodePacket(p, 4)));
  assert.deepEqual(parseAll(stream, 4, true).map(normal), packets.map(normal));
});

function expectError(bytes: number[], reason: number, level: ProtocolLevel = 4): void {
  assert.throws(() => parseAll(Buffer.from(bytes), level), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === reason);
}

test('bad input is a protocol error with the right reason', () => {
  expectError([0x36, 3, 0, 1, 0x61], Reason.MalformedPacket); // QoS 3
  expectError([0x31, 3, 0, 1, 0x61].map((b, i) => (i === 0 ? 0x38 : b)), Reason.MalformedPacket); // DUP on QoS 0
  expectError([0x80, 6, 0, 1, 0, 1, 0x61, 0], Reason.MalformedPacket); // SUBSCRIBE without flags 0010
  expectError([0x30, 4, 0, 2, 0xc3, 0x28], Reason.MalformedPacket); // invalid UTF-8 topic
  expectError([0x30, 3, 0, 1, 0x00], Reason.MalformedPacket); // U+0000 in a topic
  expectError([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f], Reason.MalformedPacket); // 5-byte remaining length
  expectError([0x10, 10, 0, 4, 0x4d, 0x51, 0x54, 0x54, 9, 2, 0, 0], Reason.UnsupportedProtocolVersion);
  expectError([0x40, 3, 0, 1, 0], Reason.MalformedPacket); // 3.1.1 PUBACK with a trailing byte
  expectError([0x00, 0], Reason.MalformedPacket); // reserved type 0
  expectError([0x82, 2, 0, 1], Reason.ProtocolError); // SUBSCRIBE without filters
  const big = new MqttParser({ maxPacketSize: 100 });
  assert.throws(() => big.push(Buffer.from([0x30, 0xff, 0xff, 0x03]), () => undefined), (e: unknown) => e instanceof MqttProtocolError && e.reasonCode === Reason.PacketTooLarge);
});

test('a duplicated property is a protocol error (2.2.2.2)', () => {
  // PUBACK 5.0: id 1, reason 0, properties: reason string 'a' twice.
  expectError([0x40, 12, 0, 1, 0, 8, 0x1f, 0, 1, 0x61, 0x1f, 0, 1, 0x61], Reason.ProtocolError, 5);
});

test('writePublish writes at an offset the bytes encodePacket makes (3.1.1 and 5.0, 1- to 3-byte remaining lengths)', async () => {
  const { publishHeaderByte, publishLength, writePublish } = await import('../../../src/mqtt/codec/direct.js');
  const { encodeProperties } = await import('../../../src/mqtt/codec/encode.js');
  for (const payloadLength of [0, 5, 200, 20_000]) {
    for (const level of [4, 5] as const) {
      const payload = Buffer.alloc(payloadLength, 0x5a);
      const properties = level === 5 ? { contentType: 'text/plain', subscriptionIdentifiers: [7] } : {};
      const packet = { type: 'publish', dup: true, qos: 1, retain: true, topic: 'a/é/c', packetId: 513, payload, properties } as const;
      const expected = encodePacket(packet, level);
      const topic = Buffer.from(packet.topic, 'utf8');
      const props = level === 5 ? encodeProperties(properties) : undefined;
      const length = publishLength(topic.length, true, props?.length ?? 0, payloadLength);
      assert.equal(length, expected.length);
      const target = Buffer.alloc(length + 10, 0xee);
      const written = writePublish(target, 7, publishHeaderByte(true, 1, true), topic, 513, props, payload);
      assert.equal(written, length);
      assert.ok(target.subarray(7, 7 + length).equals(expected), `payload ${payloadLength}, level ${level}`);
      assert.deepEqual([...target.subarray(0, 7), ...target.subarray(7 + length)], Array(10).fill(0xee), 'nothing written outside');
      // Read back by the parser (encodePacket itself writes through writePublish).
      const [decoded] = parseAll(target.subarray(7, 7 + length), level);
      assert.ok(decoded?.type === 'publish');
      assert.deepEqual([decoded.topic, decoded.packetId, decoded.dup, decoded.qos, decoded.retain, decoded.payload.length], [packet.topic, 513, true, 1, true, payloadLength]);
      if (level === 5) assert.deepEqual([decoded.properties.contentType, decoded.properties.subscriptionIdentifiers], ['text/plain', [7]]);
    }
  }
  // QoS 0: no packet id.
  const bytes = Buffer.alloc(8);
  assert.equal(writePublish(bytes, 0, publishHeaderByte(false, 0, false), Buffer.from('t'), undefined, undefined, Buffer.from('hi')), 7);
  assert.deepEqual([...bytes.subarray(0, 7)], [0x30, 5, 0, 1, 0x74, 0x68, 0x69]);
});

test('a repeated topic is read from the parser memory; a different one of the same length is decoded', () => {
  const publish = (topic: string): Buffer => encodePacket({ type: 'publish', dup: false, qos: 0, retain: false, topic, packetId: undefined, payload: Buffer.from(topic), properties: {} }, 4);
  const topics = ['a/b/c', 'a/b/c', 'a/b/d', 'ä/b', 'ä/b', 'a/b/c', ''];
  const packets = parseAll(Buffer.concat(topics.map(publish)), 4);
  assert.deepEqual(packets.map((p) => (p.type === 'publish' ? [p.topic, p.payload.toString()] : undefined)), topics.map((t) => [t, t]));
  // One byte at a time: the bytes of a topic compared are those of the packet, not of a stale chunk.
  const split = parseAll(Buffer.concat(topics.map(publish)), 4, true);
  assert.deepEqual(split.map((p) => (p.type === 'publish' ? p.topic : undefined)), topics);
});
