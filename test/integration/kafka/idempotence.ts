/**
 * Test tools for idempotent producers: a proxy that loses a Produce answer (and may hold the client's
 * retry until the broker behind it was restarted), and raw InitProducerId / Produce requests with a
 * chosen producer id, epoch and sequence (what no client library lets a test choose).
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Consumer } from '@platformatic/kafka';
import { crc32c } from '../../../src/kafka/protocol/crc32c.js';
import { encodeBatch } from '../../../src/kafka/protocol/record-batch.js';
import { Reader } from '../../../src/kafka/protocol/reader.js';
import { Writer } from '../../../src/kafka/protocol/writer.js';
import { RawKafkaClient } from './harness.js';

export interface AnswerLosingProxy {
  readonly port: number;
  setTarget(port: number): void;
  /** Answers dropped so far. */
  lost(): number;
  /** The next Produce request's answer is lost too (the first one's is from the start). */
  arm(): void;
  /** Lets held connections through to the current target. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A proxy that forwards Kafka traffic but, for the first Produce request (and the first after each
 * `arm()`), drops the broker's answer and cuts the connection: the request was appended, the client never hears so, and retries. With
 * `hold`, connections made after the loss wait (the client's bytes buffered) until `release()`, so a
 * test can restart the broker between the append and the retry.
 */
export async function answerLosingProxy(options: { hold?: boolean } = {}): Promise<AnswerLosingProxy> {
  let target = 0;
  let lost = 0;
  let armed = true;
  let held: Array<() => void> | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    const early: Buffer[] = [];
    const buffer = (chunk: Buffer): number => early.push(chunk);
    client.on('data', buffer);
    client.on('error', () => client.destroy());
    const open = (): void => {
      if (client.destroyed) return;
      client.off('data', buffer);
      pipe(client, target, early);
    };
    if (held !== undefined) held.push(open);
    else open();
  });
  const pipe = (client: Socket, port: number, early: Buffer[]): void => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(upstream);
    let dropCorrelation: number | undefined;
    let pending = Buffer.alloc(0);
    const fromClient = (chunk: Buffer): void => {
      if (armed && dropCorrelation === undefined && chunk.length >= 12 && chunk.readInt16BE(4) === 0) dropCorrelation = chunk.readInt32BE(8);
      upstream.write(chunk);
    };
    for (const chunk of early) fromClient(chunk);
    client.on('data', fromClient);
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 8 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(0, 4 + pending.readInt32BE(0));
        pending = pending.subarray(frame.length);
        if (dropCorrelation !== undefined && frame.readInt32BE(4) === dropCorrelation) {
          lost++;
          armed = false;
          if (options.hold === true) held = [];
          client.destroy();
          upstream.destroy();
          return;
        }
        client.write(frame);
      }
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('error', end).on('close', end);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    setTarget: (port) => (target = port),
    lost: () => lost,
    arm: () => (armed = true),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const open of waiting) open();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Producer {
  readonly producerId: bigint;
  readonly epoch: number;
}

/** InitProducerId v1 (no transactional id): a new producer id; or v3 with `existing`, to bump its epoch. */
export async function initProducerId(port: number, existing?: Producer): Promise<Producer & { error: number }> {
  const client = await RawKafkaClient.connect(port);
  try {
    if (existing === undefined) {
      client.request(22, 1, 1, new Writer(false).nullableString(null).int32(60_000).toBuffer());
    } else {
      const body = new Writer(true).nullableString(null).int32(60_000).int64(existing.producerId).int16(existing.epoch);
      body.taggedFields();
      client.request(22, 3, 1, body.toBuffer(), true);
    }
    const frame = await client.next();
    assert.ok(frame, 'InitProducerId answered');
    const r = new Reader(frame, existing !== undefined);
    r.int32(); // correlation id
    r.taggedFields(); // response header v1 when flexible
    r.int32(); // throttle
    return { error: r.int16(), producerId: r.int64(), epoch: r.int16() };
  } finally {
    client.close();
  }
}

/** One idempotent batch of `count` records from `producer` with sequences from `sequence`. */
export function idempotentBatch(producer: Producer, sequence: number, count: number, valueBytes = 8): Buffer {
  const records = Array.from({ length: count }, (_, i) => ({ timestamp: Date.now(), key: null, value: Buffer.alloc(valueBytes, 97 + ((sequence + i) % 26)), headers: [] }));
  return withProducer(encodeBatch(0, records), producer, sequence);
}

/** The batch with the producer's id, epoch and base sequence set, its CRC-32C made right again. */
export function withProducer(batch: Buffer, producer: Producer, sequence: number): Buffer {
  batch.writeBigInt64BE(producer.producerId, 43);
  batch.writeInt16BE(producer.epoch, 51);
  batch.writeInt32BE(sequence, 53);
  batch.writeUInt32BE(crc32c(batch, 21), 17);
  return batch;
}

/** A Produce v7 (acks all) of `records` to partition 0 of `topic`: the partition's error code and base offset. */
export async function rawProduce(port: number, topic: string, records: Buffer): Promise<{ error: number; baseOffset: bigint }> {
  const client = await RawKafkaClient.connect(port);
  try {
    const body = new Writer(false).nullableString(null).int16(-1).int32(5000).arrayLength(1).string(topic).arrayLength(1).int32(0).bytes(records).toBuffer();
    client.request(0, 7, 9, body);
    const frame = await client.next(15_000);
    assert.ok(frame, 'Produce answered');
    const r = new Reader(frame);
    r.int32(); // correlation id
    r.classicArrayLength();
    r.classicString();
    r.classicArrayLength();
    r.int32();
    return { error: r.int16(), baseOffset: r.int64() };
  } finally {
    client.close();
  }
}

/** Kafka's error codes the tests expect. */
export const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;
export const INVALID_PRODUCER_EPOCH = 47;

/** Every record of partition 0 of `topic` as [offset, value], read with @platformatic/kafka's plain Fetch. */
export async function readValues(bootstrap: string, topic: string): Promise<Array<[bigint, string | undefined]>> {
  const consumer = new Consumer({ clientId: 'reader', groupId: 'unused', bootstrapBrokers: [bootstrap] });
  try {
    const out: Array<[bigint, string | undefined]> = [];
    for (;;) {
      const fetchOffset = out.length === 0 ? 0n : out[out.length - 1]![0] + 1n;
      const fetched = await consumer.fetch({ node: 0, maxWaitTime: 100, topics: [{ topicId: topic, partitions: [{ partition: 0, fetchOffset, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }] });
      const batches = fetched.responses[0]!.partitions[0]!.records ?? [];
      const before = out.length;
      for (const batch of batches) for (const r of batch.records) out.push([batch.firstOffset + BigInt(r.offsetDelta), r.value?.toString()]);
      if (out.length === before) return out;
    }
  } finally {
    await consumer.close();
  }
}

/** `count` InitProducerId v1 requests pipelined on one connection: the ids handed out. */
export async function initProducerIds(port: number, count: number): Promise<bigint[]> {
  const client = await RawKafkaClient.connect(port);
  try {
    const body = new Writer(false).nullableString(null).int32(60_000).toBuffer();
    for (let i = 0; i < count; i++) client.request(22, 1, i, body);
    const ids: bigint[] = [];
    for (let i = 0; i < count; i++) {
      const frame = await client.next();
      assert.ok(frame, 'InitProducerId answered');
      const r = new Reader(frame);
      r.int32();
      r.int32();
      assert.equal(r.int16(), 0);
      ids.push(r.int64());
    }
    return ids;
  } finally {
    client.close();
  }
}
