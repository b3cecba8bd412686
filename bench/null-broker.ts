/**
 * A null broker: the ceiling of an AMQP client on this machine. It completes the handshake, answers
 * every declaration with its -ok, and hands each publish straight to a consumer of the queue it names
 * (or of every queue bound to the fanout exchange it names), with a confirm to the publisher at once.
 * Nothing is routed beyond that, stored or counted; acks only return prefetch credit. A client can go
 * no faster against any broker than against this one.
 *
 *   node dist/bench/null-broker.js [--port 0]      prints "null broker listening on 127.0.0.1:PORT"
 *
 * Back-pressure is kept as a broker keeps it: a consumer gets at most its prefetch of unacknowledged
 * deliveries; what arrives beyond that waits in its backlog (references to the publisher's bytes, no
 * copy), and a publisher's socket stops being read while some backlog is over BACKLOG_HIGH messages or
 * some consumer's socket is over its high-water mark, until all are back under BACKLOG_LOW. Warren holds
 * its publishers at 4096 ready messages, so this ceiling is at least as generous as Warren. A connection
 * that consumes as well is not paused (its acks come in on the same socket).
 */
import net from 'node:net';
import { parseBenchArgs } from './harness/usage.js';
import { FrameParser, MethodId, type Frame, type FrameWriter, type Method } from '../src/amqp/codec/index.js';
import type { BasicProperties } from '../src/broker/message.js';
import { SASL_MECHANISMS, LOCALES, serverProperties } from '../src/amqp/server-properties.js';
import { SocketOutput } from '../src/amqp/output.js';

const FRAME_MAX = 131072;
const CONSUMER_HIGH_WATER_BYTES = 4 * 1024 * 1024;
const BACKLOG_HIGH = 16384;
const BACKLOG_LOW = 8192;

/** A publish waiting for its consumer's prefetch credit. */
interface Delivery {
  exchange: string;
  routingKey: string;
  properties: BasicProperties;
  encodedProperties: Buffer;
  body: Buffer;
}

interface NullConsumer {
  connection: NullConnection;
  channel: number;
  tag: string;
  deliveryTag: number;
  /** basic.qos prefetch-count of its channel (0: unlimited), and deliveries not yet acknowledged. */
  prefetch: number;
  unacked: number;
  lastAcked: number;
  noAck: boolean;
  /** Deliveries past its prefetch, oldest first from `backlogHead`. */
  backlog: Array<Delivery | undefined>;
  backlogHead: number;
}

const hasCredit = (c: NullConsumer): boolean => c.noAck || c.prefetch === 0 || c.unacked < c.prefetch;
const backlogSize = (c: NullConsumer): number => c.backlog.length - c.backlogHead;

/** Queues by name, each with its consumers (round robin), and fanout exchanges with their queues. */
class NullTopology {
  readonly consumers = new Map<string, NullConsumer[]>();
  readonly fanouts = new Map<string, Set<string>>();
  private readonly nextIndex = new Map<string, number>();
  private generated = 0;
  /** Publishing connections paused because some consumer's backlog or socket is full. */
  readonly paused = new Set<NullConnection>();

  queueName(requested: string): string {
    return requested === '' ? `amq.gen-null-${++this.generated}` : requested;
  }

  /** The consumers one publish reaches: one per queue, round robin. */
  targets(exchange: string, routingKey: string): NullConsumer[] {
    const queues = exchange === '' ? [routingKey] : [...(this.fanouts.get(exchange) ?? [])];
    const out: NullConsumer[] = [];
    for (const queue of queues) {
      const list = this.consumers.get(queue);
      if (list === undefined || list.length === 0) continue;
      const i = (this.nextIndex.get(queue) ?? 0) % list.length;
      this.nextIndex.set(queue, i + 1);
      out.push(list[i]!);
    }
    return out;
  }

  removeConnection(connection: NullConnection): void {
    for (const [queue, list] of this.consumers) this.consumers.set(queue, list.filter((c) => c.connection !== connection));
    this.paused.delete(connection);
  }

  /** After a drain or an ack: publishers resume once every backlog is short and every socket has room. */
  resumeIfRoom(): void {
    for (const list of this.consumers.values()) {
      for (const c of list) {
        if (backlogSize(c) > BACKLOG_LOW || c.connection.socket.writableLength > CONSUMER_HIGH_WATER_BYTES) return;
      }
    }
    for (const connection of this.paused) connection.socket.resume();
    this.paused.clear();
  }
}

interface PendingPublish {
  exchange: string;
  routingKey: string;
  properties: BasicProperties;
  encodedProperties: Buffer;
  bodySize: number;
  body: Buffer[];
  received: number;
}

class NullConnection {
  private readonly parser: FrameParser;
  /** Warren's own output (one write or corked writev per turn), so the ceiling writes no worse than Warren. */
  private readonly output: SocketOutput;
  /** Per channel: the next confirm sequence number when in confirm mode, and a publish being assembled. */
  private readonly confirmSeq = new Map<number, number>();
  private readonly pending = new Map<number, PendingPublish>();
  private readonly prefetch = new Map<number, number>();
  private readonly channelConsumers = new Map<number, NullConsumer[]>();
  /** Server-generated consumer tags must be unique per connection (amqplib keys its callbacks by them). */
  private consumerTags = 0;

  constructor(readonly socket: net.Socket, private readonly topology: NullTopology) {
    socket.setNoDelay(true);
    this.output = new SocketOutput(socket, Number.POSITIVE_INFINITY, () => undefined);
    this.parser = new FrameParser(
      {
        onProtocolHeader: () => this.send((w) => w.writeMethod(0, startMethod())),
        onFrame: (frame) => this.onFrame(frame),
      },
      { frameMax: FRAME_MAX },
    );
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.push(chunk);
      } catch {
        socket.destroy();
      }
    });
    socket.on('drain', () => this.topology.resumeIfRoom());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.topology.removeConnection(this));
  }

  /** Queues frames; they go out in one write at the end of the event-loop turn. */
  send(write: (w: FrameWriter) => void): void {
    write(this.output.writer);
    this.output.scheduleFlush();
  }

  private onFrame(frame: Frame): void {
    if (frame.type === 1) this.onMethod(frame.channel, frame.method);
    else if (frame.type === 2) this.onHeader(frame.channel, frame);
    else if (frame.type === 3) this.onBody(frame.channel, frame.payload);
  }

  private onMethod(channel: number, method: Method): void {
    const reply = (m: Method): void => this.send((w) => w.writeMethod(channel, m));
    switch (method.id) {
      case MethodId.ConnectionStartOk:
        return reply({ id: MethodId.ConnectionTune, args: { channelMax: 2047, frameMax: FRAME_MAX, heartbeat: 0 } });
      case MethodId.ConnectionOpen:
        return reply({ id: MethodId.ConnectionOpenOk, args: { reserved1: '' } });
      case MethodId.ConnectionClose:
        reply({ id: MethodId.ConnectionCloseOk, args: {} });
        setImmediate(() => this.socket.end());
        return;
      case MethodId.ChannelOpen:
        return reply({ id: MethodId.ChannelOpenOk, args: { reserved1: '' } });
      case MethodId.ChannelClose:
        this.topology.removeConnection(this);
        return reply({ id: MethodId.ChannelCloseOk, args: {} });
      case MethodId.ExchangeDeclare:
        if (!this.topology.fanouts.has(method.args.exchange)) this.topology.fanouts.set(method.args.exchange, new Set());
        return method.args.noWait ? undefined : reply({ id: MethodId.ExchangeDeclareOk, args: {} });
      case MethodId.ExchangeDelete:
        this.topology.fanouts.delete(method.args.exchange);
        return method.args.noWait ? undefined : reply({ id: MethodId.ExchangeDeleteOk, args: {} });
      case MethodId.QueueDeclare: {
        const queue = this.topology.queueName(method.args.queue);
        if (!this.topology.consumers.has(queue)) this.topology.consumers.set(queue, []);
        return method.args.noWait ? undefined : reply({ id: MethodId.QueueDeclareOk, args: { queue, messageCount: 0, consumerCount: 0 } });
      }
      case MethodId.QueueBind:
        this.topology.fanouts.get(method.args.exchange)?.add(method.args.queue);
        return method.args.noWait ? undefined : reply({ id: MethodId.QueueBindOk, args: {} });
      case MethodId.QueueDelete:
        this.topology.consumers.delete(method.args.queue);
        return method.args.noWait ? undefined : reply({ id: MethodId.QueueDeleteOk, args: { messageCount: 0 } });
      case MethodId.QueuePurge:
        return reply({ id: MethodId.QueuePurgeOk, args: { messageCount: 0 } });
      case MethodId.BasicQos:
        this.prefetch.set(channel, method.args.prefetchCount);
        return reply({ id: MethodId.BasicQosOk, args: {} });
      case MethodId.ConfirmSelect:
        this.confirmSeq.set(channel, 1);
        return method.args.nowait ? undefined : reply({ id: MethodId.ConfirmSelectOk, args: {} });
      case MethodId.BasicConsume: {
        const tag = method.args.consumerTag === '' ? `null-ctag-${++this.consumerTags}` : method.args.consumerTag;
        const list = this.topology.consumers.get(method.args.queue) ?? [];
        const consumer: NullConsumer = {
          connection: this, channel, tag, deliveryTag: 0, prefetch: this.prefetch.get(channel) ?? 0, unacked: 0,
          lastAcked: 0, noAck: method.args.noAck, backlog: [], backlogHead: 0,
        };
        list.push(consumer);
        this.topology.consumers.set(method.args.queue, list);
        this.channelConsumers.set(channel, [...(this.channelConsumers.get(channel) ?? []), consumer]);
        return method.args.noWait ? undefined : reply({ id: MethodId.BasicConsumeOk, args: { consumerTag: tag } });
      }
      case MethodId.BasicPublish:
        this.pending.set(channel, {
          exchange: method.args.exchange,
          routingKey: method.args.routingKey,
          properties: {},
          encodedProperties: Buffer.alloc(0),
          bodySize: 0,
          body: [],
          received: 0,
        });
        return;
      case MethodId.BasicAck:
        return this.onAck(channel, method.args.deliveryTag, method.args.multiple);
      default:
        return; // basic.nack, basic.reject and the rest: read and dropped
    }
  }

  /** Returns prefetch credit (one consumer per channel here, as the benchmark client has), spent on the backlog. */
  private onAck(channel: number, deliveryTag: number, multiple: boolean): void {
    for (const consumer of this.channelConsumers.get(channel) ?? []) {
      const acked = multiple ? Math.max(0, deliveryTag - consumer.lastAcked) : 1;
      consumer.unacked = Math.max(0, consumer.unacked - acked);
      consumer.lastAcked = Math.max(consumer.lastAcked, deliveryTag);
      drainBacklog(consumer);
    }
    if (this.topology.paused.size > 0) this.topology.resumeIfRoom();
  }

  private onHeader(channel: number, frame: Extract<Frame, { type: 2 }>): void {
    const publish = this.pending.get(channel);
    if (publish === undefined) return;
    publish.properties = frame.properties;
    publish.encodedProperties = frame.encodedProperties;
    publish.bodySize = frame.bodySize;
    if (frame.bodySize === 0) this.complete(channel, publish);
  }

  private onBody(channel: number, payload: Buffer): void {
    const publish = this.pending.get(channel);
    if (publish === undefined) return;
    publish.body.push(payload);
    publish.received += payload.length;
    if (publish.received >= publish.bodySize) this.complete(channel, publish);
  }

  private complete(channel: number, publish: PendingPublish): void {
    this.pending.delete(channel);
    const body = publish.body.length === 1 ? publish.body[0]! : Buffer.concat(publish.body);
    const delivery: Delivery = {
      exchange: publish.exchange, routingKey: publish.routingKey, properties: publish.properties,
      encodedProperties: publish.encodedProperties, body,
    };
    for (const consumer of this.topology.targets(publish.exchange, publish.routingKey)) {
      if (backlogSize(consumer) === 0 && hasCredit(consumer)) deliver(consumer, delivery);
      else consumer.backlog.push(delivery);
      const full = consumer.connection.socket.writableLength > CONSUMER_HIGH_WATER_BYTES || backlogSize(consumer) >= BACKLOG_HIGH;
      // A connection that also consumes is never paused: its socket carries the acks that end the wait.
      if (full && this.channelConsumers.size === 0 && !this.topology.paused.has(this)) {
        this.topology.paused.add(this);
        this.socket.pause();
      }
    }
    const seq = this.confirmSeq.get(channel);
    if (seq !== undefined) {
      this.confirmSeq.set(channel, seq + 1);
      this.send((w) => w.writeConfirm(channel, seq, false, true));
    }
  }
}

function deliver(consumer: NullConsumer, d: Delivery): void {
  const deliveryTag = ++consumer.deliveryTag;
  if (!consumer.noAck) consumer.unacked++;
  consumer.connection.send((w) =>
    w.writeDeliver(consumer.channel, consumer.tag, deliveryTag, false, d.exchange, d.routingKey, d.properties,
      d.encodedProperties, d.body, FRAME_MAX),
  );
}

/** Delivers from the backlog while the consumer has credit; compacts the array now and then. */
function drainBacklog(consumer: NullConsumer): void {
  while (backlogSize(consumer) > 0 && hasCredit(consumer)) {
    const d = consumer.backlog[consumer.backlogHead]!;
    consumer.backlog[consumer.backlogHead++] = undefined; // let its bytes go
    deliver(consumer, d);
  }
  if (consumer.backlogHead > 1024 && consumer.backlogHead * 2 > consumer.backlog.length) {
    consumer.backlog = consumer.backlog.slice(consumer.backlogHead);
    consumer.backlogHead = 0;
  }
}

function startMethod(): Method {
  return {
    id: MethodId.ConnectionStart,
    args: { versionMajor: 0, versionMinor: 9, serverProperties: serverProperties(), mechanisms: SASL_MECHANISMS, locales: LOCALES },
  };
}

/** Starts a null broker; resolves with its port and a close function. */
export function startNullBroker(port = 0, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const topology = new NullTopology();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new NullConnection(socket, topology);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { values } = parseBenchArgs(import.meta.url, { options: { port: { type: 'string', default: '0' } } });
  const { port } = await startNullBroker(Number(values.port));
  process.stdout.write(`null broker listening on 127.0.0.1:${port}\n`);
}
