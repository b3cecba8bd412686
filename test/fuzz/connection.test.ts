import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { pino } from 'pino';
import { FrameWriter } from '../../src/amqp/codec/encode.js';
import { PROTOCOL_HEADER } from '../../src/amqp/handshake.js';
import { MethodId } from '../../src/amqp/spec/generated.js';
import { seededRandom } from '../../src/util/prng.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';

/** A failing run replays with WARREN_FUZZ_SEED. */
const SEED = Number(process.env['WARREN_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const CONNECTIONS = Number(process.env['WARREN_FUZZ_CONNECTIONS'] ?? 240);
const CONCURRENCY = 8;

/** What a well-behaved client sends after the protocol header: the raw material for mutations. */
function validSession(): Buffer {
  const w = new FrameWriter();
  w.writeMethod(0, {
    id: MethodId.ConnectionStartOk,
    args: { clientProperties: { product: 'fuzz', capabilities: { 'connection.blocked': true } }, mechanism: 'PLAIN', response: Buffer.from('\0guest\0guest'), locale: 'en_US' },
  });
  w.writeMethod(0, { id: MethodId.ConnectionTuneOk, args: { channelMax: 2047, frameMax: 131072, heartbeat: 0 } });
  w.writeMethod(0, { id: MethodId.ConnectionOpen, args: { virtualHost: '/', reserved1: '', reserved2: false } });
  w.writeMethod(1, { id: MethodId.ChannelOpen, args: { reserved1: '' } });
  w.writeMethod(1, { id: MethodId.BasicQos, args: { prefetchSize: 0, prefetchCount: 10, global: false } });
  w.writeMethod(1, {
    id: MethodId.QueueDeclare,
    args: { reserved1: 0, queue: 'fuzz-q', passive: false, durable: false, exclusive: false, autoDelete: false, noWait: false, arguments: { 'x-max-length': 100 } },
  });
  w.writeMethod(1, {
    id: MethodId.QueueBind,
    args: { reserved1: 0, queue: 'fuzz-q', exchange: 'amq.topic', routingKey: 'a.#', noWait: false, arguments: {} },
  });
  w.writeContent(
    1,
    { id: MethodId.BasicPublish, args: { reserved1: 0, exchange: 'amq.topic', routingKey: 'a.b', mandatory: true, immediate: false } },
    { contentType: 'text/plain', headers: { n: 1, s: 'x', nested: { list: [1, 'two', null] } }, deliveryMode: 2, priority: 3 },
    undefined,
    Buffer.from('hello fuzz'),
    131072,
  );
  w.writeMethod(1, {
    id: MethodId.BasicConsume,
    args: { reserved1: 0, queue: 'fuzz-q', consumerTag: '', noLocal: false, noAck: false, exclusive: false, noWait: false, arguments: {} },
  });
  w.writeMethod(1, { id: MethodId.BasicAck, args: { deliveryTag: 1, multiple: false } });
  w.writeMethod(2, { id: MethodId.ChannelOpen, args: { reserved1: '' } });
  w.writeMethod(2, { id: MethodId.ConfirmSelect, args: { nowait: false } });
  w.writeMethod(1, { id: MethodId.ChannelClose, args: { replyCode: 200, replyText: 'ok', classId: 0, methodId: 0 } });
  w.writeMethod(0, { id: MethodId.ConnectionClose, args: { replyCode: 200, replyText: 'ok', classId: 0, methodId: 0 } });
  return w.take();
}

type Strategy = (random: () => number, session: Buffer) => Buffer;

const int = (random: () => number, n: number): number => Math.floor(random() * n);
const randomBytes = (random: () => number, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(random, 256)));

const strategies: Record<string, Strategy> = {
  noise: (random) => randomBytes(random, 1 + int(random, 512)),
  headerThenNoise: (random) => Buffer.concat([PROTOCOL_HEADER, randomBytes(random, 1 + int(random, 512))]),
  flippedBytes: (random, session) => {
    const copy = Buffer.from(session);
    const flips = 1 + int(random, 6);
    for (let i = 0; i < flips; i++) copy[int(random, copy.length)] = int(random, 256);
    return Buffer.concat([PROTOCOL_HEADER, copy]);
  },
  truncated: (random, session) => Buffer.concat([PROTOCOL_HEADER, session.subarray(0, int(random, session.length))]),
  spliced: (random, session) => {
    const at = int(random, session.length);
    const from = int(random, session.length);
    const slice = session.subarray(from, from + 1 + int(random, 64));
    return Buffer.concat([PROTOCOL_HEADER, session.subarray(0, at), slice, session.subarray(at)]);
  },
  randomFrames: (random) => {
    const frames: Buffer[] = [PROTOCOL_HEADER];
    for (let n = 1 + int(random, 8); n > 0; n--) {
      const payload = randomBytes(random, int(random, 64));
      const header = Buffer.alloc(7);
      header.writeUInt8([1, 2, 3, 8, int(random, 256)][int(random, 5)]!, 0);
      header.writeUInt16BE(int(random, 4), 1);
      header.writeUInt32BE(random() < 0.9 ? payload.length : int(random, 2 ** 32), 3);
      frames.push(header, payload, Buffer.from([random() < 0.95 ? 0xce : int(random, 256)]));
    }
    return Buffer.concat(frames);
  },
  hugeSizeClaim: (random) => {
    const header = Buffer.from([1, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    return Buffer.concat([PROTOCOL_HEADER, header, randomBytes(random, 32)]);
  },
};

/** Writes the bytes in random pieces, then waits for the server to close or gives up after a while. */
function throwAt(port: number, bytes: Buffer, random: () => number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTcp({ port, host: '127.0.0.1' });
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => resolve());
    const giveUp = setTimeout(() => socket.destroy(), 300);
    giveUp.unref();
    socket.on('connect', () => {
      let off = 0;
      while (off < bytes.length && !socket.destroyed) {
        const n = 1 + int(random, 256);
        socket.write(bytes.subarray(off, off + n));
        off += n;
      }
      if (random() < 0.3) socket.end();
    });
  });
}

describe(`connection fuzz (WARREN_FUZZ_SEED=${SEED})`, () => {
  let server: TestBroker;
  /** Log records, to see how deep the fuzz got and that nothing hit an internal error. */
  const logs: { level: number; msg: string; err?: unknown }[] = [];
  before(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
    server = await startBroker({ logger, listener: { timeouts: { handshakeMs: 1000, closeMs: 500 } } });
  });
  after(() => server.close());

  it(`survives ${CONNECTIONS} connections of garbage and mutated sessions, then serves amqplib`, async (t) => {
    const random = seededRandom(SEED);
    const session = validSession();
    const names = Object.keys(strategies);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < CONNECTIONS) {
        next++;
        const name = names[int(random, names.length)]!;
        await throwAt(server.port, strategies[name]!(random, session), random);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const opened = logs.filter((l) => l.msg === 'connection open').length;
    const refused = logs.filter((l) => l.msg === 'closing connection').length;
    t.diagnostic(`${opened} fuzzed connections opened, ${refused} closed with an AMQP error`);
    assert.ok(opened >= 5, `only ${opened} fuzzed connections got past connection.open`);
    assert.ok(refused >= 20, `only ${refused} fuzzed connections were closed with an AMQP error`);
    const internal = logs.filter((l) => l.level >= 50);
    assert.deepEqual(internal, [], 'fuzz input must never cause an internal error');

    const deadline = Date.now() + 5000;
    while (server.listener.amqpConnections.size > 0 && Date.now() < deadline) await sleep(20);
    assert.equal(server.listener.amqpConnections.size, 0, 'every fuzzed connection was cleaned up');

    const conn = await amqp.connect(server.url);
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('still alive'));
    let message: amqp.GetMessage | false = false;
    for (let i = 0; i < 50 && message === false; i++) {
      message = await ch.get(queue, { noAck: true });
      if (message === false) await sleep(10);
    }
    assert.ok(message !== false, 'the broker still routes messages');
    assert.equal(message.content.toString(), 'still alive');
    await conn.close();
  });
});
