import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QueueEntry } from '../../../src/broker/front-door.js';
import { Message } from '../../../src/broker/message.js';
import type { QueueView } from '../../../src/broker/queue-view.js';
import { publishLength, writePublish } from '../../../src/mqtt/codec/direct.js';
import { MqttParser, type Packet, type PublishPacket, type QoS } from '../../../src/mqtt/codec/index.js';
import { Outbound, type OutboundSink } from '../../../src/mqtt/outbound.js';
import { PublishEncodings } from '../../../src/mqtt/publish-encodings.js';
import type { MqttSession, Subscription } from '../../../src/mqtt/session.js';

/** A client's side: what Outbound writes is encoded for real and parsed back. */
function client(receiveMaximum: number, maxPacketSize = 1 << 20): { sink: OutboundSink; received: PublishPacket[] } {
  const received: PublishPacket[] = [];
  const parser = new MqttParser({ maxPacketSize: 1 << 20 });
  const sink: OutboundSink = {
    level: 4,
    clientReceiveMaximum: receiveMaximum,
    encodings: new PublishEncodings(),
    writePublish(headerByte, topic, packetId, properties, payload) {
      const length = publishLength(topic.length, packetId !== undefined, properties?.length ?? 0, payload.length);
      if (length > maxPacketSize) return false;
      const bytes = Buffer.alloc(length);
      assert.equal(writePublish(bytes, 0, headerByte, topic, packetId, properties, payload), length);
      parser.push(bytes, (p: Packet) => received.push(p as PublishPacket));
      return true;
    },
  };
  return { sink, received };
}

function fakeSession(): MqttSession {
  return { pendingRelease: new Set<number>(), published: new WeakSet<object>(), persistQos2: () => undefined } as unknown as MqttSession;
}

/** A queue that records what it is told. */
function fakeQueue(): QueueView & { acked: number[]; requeued: number[][]; resumed: number } {
  const queue = {
    acked: [] as number[],
    requeued: [] as number[][],
    resumed: 0,
    deleted: false,
    ack(entry: QueueEntry) { queue.acked.push(entry.seq); },
    requeue(entries: Iterable<QueueEntry>) { queue.requeued.push([...entries].map((e) => e.seq)); },
    resumeDispatch() { queue.resumed++; },
  };
  return queue as unknown as QueueView & typeof queue;
}

function entry(seq: number, qos: QoS, body = 'm'): QueueEntry {
  const message = new Message('amq.topic', 'a.b', { deliveryMode: qos > 0 ? 2 : 1, headers: { 'x-mqtt-publish-qos': qos } }, Buffer.from(body));
  return { seq, message, redelivered: false, deliveryCount: 0 };
}

const sub = (qos: QoS): Subscription => ({ filter: 'a/b', qos, noLocal: false, retainAsPublished: false, retainHandling: 0, identifier: undefined });

test('QoS 1 deliveries: distinct ids within the window, PUBACK settles and frees the id', () => {
  const { sink, received } = client(16);
  const outbound = new Outbound(sink, fakeSession());
  const queue = fakeQueue();
  for (let seq = 1; seq <= 16; seq++) outbound.deliver(entry(seq, 1, `m${seq}`), queue, [sub(1)]);
  assert.equal(outbound.hasRoom(), false);
  const ids = received.map((p) => p.packetId!);
  assert.equal(new Set(ids).size, 16);
  assert.deepEqual(received.map((p) => [p.topic, p.qos, p.payload.toString()]), Array.from({ length: 16 }, (_, i) => ['a/b', 1, `m${i + 1}`]));
  outbound.acknowledged(ids[3]!);
  outbound.acknowledged(ids[3]!); // a repeated PUBACK is ignored
  outbound.acknowledged(9999); // so is an unknown one
  assert.deepEqual(queue.acked, [4]);
  assert.equal(outbound.inFlightCount, 15);
  assert.equal(outbound.hasRoom(), true);
});

test('ids cycle through the span and skip those still in flight or awaiting PUBCOMP', () => {
  const { sink, received } = client(16);
  const session = fakeSession();
  session.pendingRelease.add(3);
  const outbound = new Outbound(sink, session);
  const queue = fakeQueue();
  let seq = 0;
  // One long-lived delivery (id 1), then many that are acknowledged at once: the ids wrap around.
  outbound.deliver(entry(++seq, 1), queue, [sub(1)]);
  for (let i = 0; i < 300; i++) {
    outbound.deliver(entry(++seq, 1), queue, [sub(1)]);
    outbound.acknowledged(received.at(-1)!.packetId!);
  }
  const ids = received.map((p) => p.packetId!);
  assert.equal(ids[0], 1);
  assert.ok(!ids.slice(1).includes(1), 'an id in flight is not reused');
  assert.ok(!ids.includes(3), 'an id awaiting PUBCOMP is not used');
  assert.ok(Math.max(...ids) <= 64, `ids stay within the span (max ${Math.max(...ids)})`);
  assert.equal(outbound.inFlightCount, 1);
});

test('retained messages beyond the span still get distinct ids', () => {
  const { sink, received } = client(4);
  const outbound = new Outbound(sink, fakeSession());
  for (let i = 0; i < 200; i++) outbound.deliverRetained(entry(i, 1).message, sub(1));
  assert.equal(received.length, 200);
  assert.equal(new Set(received.map((p) => p.packetId)).size, 200);
  assert.ok(received.every((p) => p.retain));
});

test('QoS 0 entries are settled after the delivering call; a packet over the maximum size too, unsent', async () => {
  const { sink, received } = client(16, 20);
  const outbound = new Outbound(sink, fakeSession());
  const queue = fakeQueue();
  outbound.deliver(entry(1, 0), queue, [sub(1)]); // QoS min(granted 1, published 0) = 0
  outbound.deliver(entry(2, 1, 'x'.repeat(50)), queue, [sub(1)]); // too large: dropped as if delivered
  assert.deepEqual(queue.acked, [], 'not inside the dispatch call');
  await Promise.resolve();
  assert.deepEqual(queue.acked, [1, 2]);
  assert.deepEqual(received.map((p) => [p.qos, p.packetId]), [[0, undefined]]);
  assert.equal(outbound.inFlightCount, 0);
});

test('the connection ends: what was in flight goes back to each queue in queue order, ids wrapped or not', () => {
  const { sink, received } = client(4); // a span of 64 ids
  const outbound = new Outbound(sink, fakeSession());
  const first = fakeQueue();
  const second = fakeQueue();
  for (let seq = 1; seq <= 62; seq++) {
    outbound.deliver(entry(seq, 1), first, [sub(1)]);
    outbound.acknowledged(received.at(-1)!.packetId!);
  }
  // Ids 63, 64, then 1 and 2: by id the later deliveries would come first.
  for (let seq = 100; seq <= 103; seq++) outbound.deliver(entry(seq, 1), seq % 2 === 0 ? first : second, [sub(1)]);
  assert.deepEqual(received.slice(-4).map((p) => p.packetId), [63, 64, 1, 2]);
  outbound.deliverRetained(entry(999, 1).message, sub(1)); // no entry: nothing to requeue
  outbound.releaseAll();
  assert.deepEqual(first.requeued, [[100, 102]]);
  assert.deepEqual(second.requeued, [[101, 103]]);
  assert.equal(outbound.inFlightCount, 0);
});
