/**
 * Codec micro-benchmark (not a test): messages per second for encoding basic.deliver + header + body
 * and for parsing basic.publish + header + body, with a 100-byte body.
 *
 *   node .build/<dir>/bench/codec.js [seconds-per-case]
 */
import { FrameParser, FrameWriter, MethodId, encodeProperties, type Frame, type Method } from '../src/amqp/codec/index.js';
import type { BasicProperties } from '../src/broker/message.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const BODY = Buffer.alloc(100, 0x61);
const PROPERTIES: BasicProperties = { contentType: 'application/json', deliveryMode: 2, headers: { 'x-trace': 'abc123' } };
const ENCODED = encodeProperties(PROPERTIES);
const BATCH = 1000;

function measure(name: string, seconds: number, batch: () => void): void {
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const started = process.hrtime.bigint();
  let messages = 0;
  while (process.hrtime.bigint() < deadline) {
    batch();
    messages += BATCH;
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  process.stdout.write(`${name.padEnd(44)} ${Math.round(messages / elapsed).toLocaleString('en-US').padStart(12)} msg/s\n`);
}

function encodeDeliveries(w: FrameWriter, encoded: Buffer | undefined): void {
  for (let i = 0; i < BATCH; i++) {
    w.writeDeliver(1, 'amq.ctag-bench', i + 1, false, 'exchange', 'routing.key', PROPERTIES, encoded, BODY, 131072);
  }
  w.take();
}

function publishStream(): Buffer {
  const w = new FrameWriter();
  const publish: Method = {
    id: MethodId.BasicPublish,
    args: { reserved1: 0, exchange: 'exchange', routingKey: 'routing.key', mandatory: false, immediate: false },
  };
  for (let i = 0; i < BATCH; i++) w.writeContent(1, publish, PROPERTIES, undefined, BODY, 131072);
  return w.take();
}

function main(): void {
  const seconds = Number(process.argv[2] ?? 2);
  const w = new FrameWriter();
  measure('encode deliver (re-encoding properties)', seconds, () => encodeDeliveries(w, undefined));
  measure('encode deliver (reusing encodedProperties)', seconds, () => encodeDeliveries(w, ENCODED));

  const stream = publishStream();
  let frames = 0;
  const parser = new FrameParser({ onFrame: (_f: Frame) => void frames++ }, { frameMax: 131072, expectProtocolHeader: false });
  // 64 KiB pieces, as a socket delivers them; each piece is its own buffer.
  const pieces: Buffer[] = [];
  for (let off = 0; off < stream.length; off += 65536) pieces.push(Buffer.from(stream.subarray(off, off + 65536)));
  measure('parse publish + header + body', seconds, () => {
    for (const piece of pieces) parser.push(piece);
  });
  if (frames === 0) throw new Error('parser produced nothing');
}

main();
