/** Random and mutated bytes into the MQTT parser: it returns packets or throws MqttProtocolError, nothing else. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodePacket, MqttParser, MqttProtocolError, type Packet } from '../../src/mqtt/codec/index.js';
import { seededRandom } from '../../src/util/prng.js';

const SEEDS: Packet[] = [
  { type: 'connect', protocolName: 'MQTT', protocolLevel: 5, cleanStart: true, keepAlive: 30, clientId: 'c', will: { topic: 'w', payload: Buffer.from('x'), qos: 1, retain: false, properties: { willDelayInterval: 1 } }, username: 'u', password: Buffer.from('p'), properties: { sessionExpiryInterval: 10, userProperties: [['a', 'b']] } },
  { type: 'publish', dup: false, qos: 1, retain: false, topic: 'a/b', packetId: 5, payload: Buffer.from('hello'), properties: { topicAlias: 1, correlationData: Buffer.from('z') } },
  { type: 'subscribe', packetId: 3, subscriptions: [{ filter: 'a/#', qos: 2, noLocal: true, retainAsPublished: false, retainHandling: 1 }], properties: {} },
  { type: 'unsubscribe', packetId: 4, filters: ['a/#'], properties: {} },
  { type: 'pubrel', packetId: 4, reasonCode: 0 },
  { type: 'disconnect', reasonCode: 4, properties: { sessionExpiryInterval: 0 } },
];

function feed(bytes: Buffer, level: 4 | 5, split: (n: number) => number): void {
  const parser = new MqttParser({ maxPacketSize: 4096 });
  parser.level = level;
  let at = 0;
  try {
    while (at < bytes.length) {
      const n = Math.max(1, split(bytes.length - at));
      parser.push(bytes.subarray(at, at + n), () => undefined);
      at += n;
    }
  } catch (error) {
    if (!(error instanceof MqttProtocolError)) throw error;
  }
}

test('the MQTT parser survives random bytes, mutations and truncations', () => {
  const rng = seededRandom(0x5eed);
  const random = (n: number): number => Math.floor(rng() * n);
  for (let round = 0; round < 4000; round++) {
    const level = round % 2 === 0 ? 5 : 4;
    let bytes: Buffer;
    if (round % 4 === 0) {
      bytes = Buffer.alloc(1 + random(64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = random(256);
    } else {
      const seed = SEEDS[random(SEEDS.length)]!;
      bytes = Buffer.from(encodePacket(seed, 5));
      const flips = 1 + random(4);
      for (let i = 0; i < flips; i++) bytes[random(bytes.length)] = random(256);
      if (round % 3 === 0) bytes = bytes.subarray(0, random(bytes.length));
    }
    assert.doesNotThrow(() => feed(bytes, level, (left) => 1 + random(left)));
  }
});
