/**
 * A null Kafka endpoint: answers ApiVersions, Metadata, ListOffsets, Produce and Fetch correctly
 * enough for librdkafka (kcat) and kafkajs, but stores nothing. Produce is acknowledged at once (base
 * offsets counted per partition); Fetch serves the same pre-built record batch at whatever offset is
 * asked, up to a pretend log of `--log-records` records. Measuring a client against it gives that
 * client's own ceiling on this machine, the 100% for Warren's figures in bench/kafka.ts.
 *
 *   node dist/bench/kafka/null-endpoint.js [--port 0] [--log-records 1000000] [--record-bytes 100]
 *
 * Prints "null Kafka endpoint listening on 127.0.0.1:<port>". Every topic asked for exists with one
 * partition (leader: this endpoint, node 0). Uses Warren's Kafka codec (src/kafka/protocol).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { readRequestHeader, readRequestStart, startResponse, finishResponse } from '../../src/kafka/protocol/header.js';
import type { Reader } from '../../src/kafka/protocol/reader.js';
import type { Writer } from '../../src/kafka/protocol/writer.js';
import { recordBatchTemplate } from './record-batch.js';

interface ApiRange { key: number; min: number; max: number; flexibleFrom: number }

/** Non-flexible versions only (plus ApiVersions v3), which every client here speaks. */
const APIS: ApiRange[] = [
  { key: 0, min: 0, max: 8, flexibleFrom: 9 }, // Produce
  { key: 1, min: 0, max: 11, flexibleFrom: 12 }, // Fetch
  { key: 2, min: 0, max: 5, flexibleFrom: 6 }, // ListOffsets
  { key: 3, min: 0, max: 8, flexibleFrom: 9 }, // Metadata
  { key: 18, min: 0, max: 3, flexibleFrom: 3 }, // ApiVersions
];

export interface NullEndpointOptions {
  host: string;
  port: number;
  /** The pretend log's length per partition: Fetch serves offsets below it, ListOffsets latest is it. */
  logRecords: number;
  recordBytes: number;
  /** Records per served batch. */
  batchRecords?: number;
}

export class NullKafkaEndpoint {
  private readonly server = createServer((socket) => this.accept(socket));
  private readonly sockets = new Set<Socket>();
  /** Next base offset per "topic/partition" for Produce answers. */
  private readonly produced = new Map<string, number>();
  private readonly batch: Buffer;
  private readonly batchRecords: number;
  /** The pretend log's length: `logRecords` rounded up to whole batches. */
  readonly logRecords: number;
  port = 0;

  constructor(private readonly options: NullEndpointOptions) {
    this.batchRecords = options.batchRecords ?? Math.max(1, Math.floor(16384 / (options.recordBytes + 10)));
    this.batch = recordBatchTemplate(this.batchRecords, options.recordBytes);
    // Whole batches only, so the last one ends exactly at the high watermark.
    this.logRecords = Math.ceil(options.logRecords / this.batchRecords) * this.batchRecords;
  }

  listen(): Promise<number> {
    return new Promise((resolve) => this.server.listen(this.options.port, this.options.host, () => {
      this.port = (this.server.address() as AddressInfo).port;
      resolve(this.port);
    }));
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let at = 0;
      while (pending.length - at >= 4) {
        const size = pending.readInt32BE(at);
        if (pending.length - at - 4 < size) break;
        this.onRequest(socket, pending.subarray(at + 4, at + 4 + size));
        at += 4 + size;
      }
      pending = at === pending.length ? Buffer.alloc(0) : Buffer.from(pending.subarray(at));
    });
  }

  private onRequest(socket: Socket, frame: Buffer): void {
    const start = readRequestStart(frame);
    const api = APIS.find((a) => a.key === start?.apiKey);
    if (start === undefined || api === undefined) return void socket.destroy();
    if (start.apiKey === 18 && start.apiVersion > api.max) return this.send(socket, start.correlationId, false, (w) => this.apiVersions(w, 0, 35));
    const flexible = start.apiVersion >= api.flexibleFrom;
    const { header, body } = readRequestHeader(frame, flexible);
    const v = header.apiVersion;
    switch (header.apiKey) {
      case 18:
        return this.send(socket, header.correlationId, flexible, (w) => this.apiVersions(w, v, 0));
      case 3:
        return this.send(socket, header.correlationId, false, this.metadata(socket, body, v));
      case 2:
        return this.send(socket, header.correlationId, false, this.listOffsets(body, v));
      case 0: {
        const answer = this.produce(body, v);
        if (answer !== undefined) this.send(socket, header.correlationId, false, answer);
        return;
      }
      case 1: {
        const { answer, waitMs } = this.fetch(body, v);
        if (waitMs > 0) setTimeout(() => this.send(socket, header.correlationId, false, answer), waitMs);
        else this.send(socket, header.correlationId, false, answer);
        return;
      }
    }
  }

  private send(socket: Socket, correlationId: number, flexible: boolean, body: (w: Writer) => void): void {
    const writer = startResponse(correlationId, flexible, false);
    body(writer);
    if (socket.destroyed) return;
    socket.cork();
    for (const chunk of finishResponse(writer)) socket.write(chunk);
    socket.uncork();
  }

  private apiVersions(w: Writer, version: number, errorCode: number): void {
    w.int16(errorCode);
    w.array(APIS, (x, a) => void x.int16(a.key).int16(a.min).int16(a.max).taggedFields());
    if (version >= 1) w.int32(0);
    w.taggedFields();
  }

  private metadata(socket: Socket, r: Reader, v: number): (w: Writer) => void {
    const count = r.arrayLength();
    const topics: string[] = [];
    for (let i = 0; i < count; i++) topics.push(r.string());
    if (topics.length === 0) topics.push(...new Set([...this.produced.keys()].map((k) => k.slice(0, k.lastIndexOf('/')))));
    const host = socket.localAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1';
    return (w) => {
      if (v >= 3) w.int32(0);
      w.arrayLength(1).int32(0).string(host).int32(this.port);
      if (v >= 1) w.nullableString(null);
      if (v >= 2) w.nullableString('null-endpoint');
      if (v >= 1) w.int32(0);
      w.array(topics, (x, name) => {
        x.int16(0).string(name);
        if (v >= 1) x.boolean(false);
        x.arrayLength(1).int16(0).int32(0).int32(0);
        if (v >= 7) x.int32(-1);
        x.arrayLength(1).int32(0).arrayLength(1).int32(0);
        if (v >= 5) x.arrayLength(0);
        if (v >= 8) x.int32(-2147483648);
      });
      if (v >= 8) w.int32(-2147483648);
    };
  }

  private listOffsets(r: Reader, v: number): (w: Writer) => void {
    r.int32();
    if (v >= 2) r.int8();
    const topics = r.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => {
        const partition = p.int32();
        if (v >= 4) p.int32();
        const timestamp = p.int64Number();
        if (v === 0) p.int32();
        return { partition, timestamp };
      }),
    }));
    return (w) => {
      if (v >= 2) w.int32(0);
      w.array(topics, (x, topic) => {
        x.string(topic.name);
        x.array(topic.partitions, (y, p) => {
          const offset = p.timestamp === -2 ? 0 : this.logRecords;
          y.int32(p.partition).int16(0);
          if (v === 0) y.arrayLength(1).int64Number(offset);
          else y.int64Number(-1).int64Number(offset);
          if (v >= 4) y.int32(-1);
        });
      });
    };
  }

  private produce(r: Reader, v: number): ((w: Writer) => void) | undefined {
    if (v >= 3) r.nullableString();
    const acks = r.int16();
    r.int32();
    const topics = r.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => ({ index: p.int32(), records: recordCount(p.bytes()), base: 0 })),
    }));
    for (const topic of topics) for (const p of topic.partitions) p.base = this.advance(`${topic.name}/${p.index}`, p.records);
    if (acks === 0) return undefined;
    return (w) => {
      w.array(topics, (x, topic) => {
        x.string(topic.name);
        x.array(topic.partitions, (y, p) => {
          y.int32(p.index).int16(0).int64Number(p.base);
          if (v >= 2) y.int64Number(-1);
          if (v >= 5) y.int64Number(0);
          if (v >= 8) y.arrayLength(0).nullableString(null);
        });
      });
      if (v >= 1) w.int32(0);
    };
  }

  /** Takes `count` offsets on the partition; returns the first. */
  private advance(key: string, count: number): number {
    const base = this.produced.get(key) ?? 0;
    this.produced.set(key, base + count);
    return base;
  }

  private fetch(r: Reader, v: number): { answer: (w: Writer) => void; waitMs: number } {
    r.int32();
    const maxWait = r.int32();
    r.int32();
    const maxBytes = v >= 3 ? r.int32() : 0x7fffffff;
    if (v >= 4) r.int8();
    if (v >= 7) r.int32(), r.int32();
    const topics = r.array((t) => ({
      name: t.string(),
      partitions: t.array((p) => {
        const partition = p.int32();
        if (v >= 9) p.int32();
        const offset = p.int64Number();
        if (v >= 5) p.int64Number();
        return { partition, offset, maxBytes: p.int32() };
      }),
    }));
    let budget = maxBytes;
    let any = false;
    const served = topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((p) => {
        const batches: Buffer[] = [];
        let offset = p.offset;
        let room = Math.min(p.maxBytes, budget);
        // At least one batch even if it is larger than the limit (KIP-74), then whole batches that fit.
        while (offset < this.logRecords && (batches.length === 0 || room >= this.batch.length)) {
          const head = Buffer.allocUnsafe(8);
          head.writeBigInt64BE(BigInt(offset));
          batches.push(head, this.batch.subarray(8));
          offset += this.batchRecords;
          room -= this.batch.length;
          budget -= this.batch.length;
        }
        if (batches.length > 0) any = true;
        return { partition: p.partition, batches };
      }),
    }));
    const answer = (w: Writer): void => {
      if (v >= 1) w.int32(0);
      if (v >= 7) w.int16(0).int32(0);
      w.array(served, (x, topic) => {
        x.string(topic.name);
        x.array(topic.partitions, (y, p) => {
          y.int32(p.partition).int16(0).int64Number(this.logRecords);
          if (v >= 4) y.int64Number(this.logRecords);
          if (v >= 5) y.int64Number(0);
          if (v >= 4) y.arrayLength(0);
          if (v >= 11) y.int32(-1);
          y.int32(p.batches.reduce((n, b) => n + b.length, 0));
          for (const b of p.batches) y.rawRef(b);
        });
      });
    };
    return { answer, waitMs: any ? 0 : Math.min(maxWait, 500) };
  }
}

/** Records in a v2 record set (the sum of each batch's lastOffsetDelta + 1), read from the batch headers only. */
function recordCount(records: Buffer | null): number {
  let n = 0;
  for (let at = 0; records !== null && at + 61 <= records.length;) {
    n += records.readInt32BE(at + 23) + 1;
    at += 12 + records.readInt32BE(at + 8);
  }
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      'log-records': { type: 'string', default: '1000000' },
      'record-bytes': { type: 'string', default: '100' },
    },
  });
  const endpoint = new NullKafkaEndpoint({ host: values.host, port: Number(values.port), logRecords: Number(values['log-records']), recordBytes: Number(values['record-bytes']) });
  const port = await endpoint.listen();
  console.log(`null Kafka endpoint listening on ${values.host}:${port} (log of ${endpoint.logRecords} records)`);
  process.on('SIGTERM', () => void endpoint.close().then(() => process.exit(0)));
  process.on('SIGINT', () => void endpoint.close().then(() => process.exit(0)));
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
