/**
 * A null broker: the ceiling of an AMQP client on this machine. It completes the handshake, answers
 * every declaration with its -ok, and hands each publish straight to a consumer of the queue it names
 * (or of every queue bound to the fanout exchange it names), with a confirm to the publisher at once.
 * Nothing is routed beyond that, stored or counted; acks only return prefetch credit. A client can go
 * no faster against any broker than against this one.
 *
 *   node dist/bench/null-broker.js [--port 0]      prints "null broker listening on 127.0.0.1:PORT"
 *
 * Back-pressure is kept as a broker keeps it: a publisher's socket stops being read while a consumer it
 * reached is out of prefetch credit or its socket is over its high-water mark (nothing is buffered
 * here), so the ceiling is neither inflated by unbounded buffering nor by flooding the consumer. A
 * connection that consumes as well is not paused (its acks come in on the same socket).
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { FrameParser, FrameWriter, MethodId, type Frame, type Method } from '../src/amqp/codec/index.js';
import type { BasicProperties } from '../src/broker/message.js';
import { SASL_MECHANISMS, LOCALES, serverProperties } from '../src/amqp/server-properties.js';

const FRAME_MAX = 131072;
const CONSUMER_HIGH_WATER_BYTES = 4 * 1024 * 1024;

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
}

/**
 * A real broker keeps publishing into its queue while a consumer is out of credit; having no queue, the
 * null broker instead lets a consumer run up to twice its prefetch before it stops the publishers, and
 * resumes them when every consumer is back under its prefetch, so the pipe never runs dry on one ack.
 */
const pastCredit = (c: NullConsumer): boolean => !c.noAck && c.prefetch > 0 && c.unacked >= 2 * c.prefetch;
const outOfCredit = (c: NullConsumer): boolean => !c.noAck && c.prefetch > 0 && c.unacked >= c.prefetch;

/** Queues by name, each with its consumers (round robin), and fanout exchanges with their queues. */
class NullTopology {
  readonly consumers = new Map<string, NullConsumer[]>();
  readonly fanouts = new Map<string, Set<string>>();
  private readonly nextIndex = new Map<string, number>();
  private generated = 0;
  /** Publishing connections paused because some consumer's socket is full. */
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

  /** After a drain or an ack: publishers resume once every consumer has credit and socket room. */
  resumeIfCredit(): void {
    for (const list of this.consumers.values()) {
      for (const c of list) {
        if (outOfCredit(c) || c.connection.socket.writableLength > CONSUMER_HIGH_WATER_BYTES) return;
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
  private readonly writer = new FrameWriter();
  private flushScheduled = false;
  /** Per channel: the next confirm sequence number when in confirm mode, and a publish being assembled. */
  private readonly confirmSeq = new Map<number, number>();
  private readonly pending = new Map<number, PendingPublish>();
  private readonly prefetch = new Map<number, number>();
  private readonly channelConsumers = new Map<number, NullConsumer[]>();
  /** Server-generated consumer tags must be unique per connection (amqplib keys its callbacks by them). */
  private consumerTags = 0;

  constructor(readonly socket: net.Socket, private readonly topology: NullTopology) {
    socket.setNoDelay(true);
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
    socket.on('drain', () => this.topology.resumeIfCredit());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.topology.removeConnection(this));
  }

  private send(write: (w: FrameWriter) => void): void {
    write(this.writer);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.writer.length > 0 && !this.socket.destroyed) this.socket.write(this.writer.take());
    });
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
          lastAcked: 0, noAck: method.args.noAck,
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

  /** Returns prefetch credit (one consumer per channel here, as the benchmark client has). */
  private onAck(channel: number, deliveryTag: number, multiple: boolean): void {
    for (const consumer of this.channelConsumers.get(channel) ?? []) {
      const acked = multiple ? Math.max(0, deliveryTag - consumer.lastAcked) : 1;
      consumer.unacked = Math.max(0, consumer.unacked - acked);
      consumer.lastAcked = Math.max(consumer.lastAcked, deliveryTag);
    }
    if (this.topology.paused.size > 0) this.topology.resumeIfCredit();
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
    for (const consumer of this.topology.targets(publish.exchange, publish.routingKey)) {
      const deliveryTag = ++consumer.deliveryTag;
      if (!consumer.noAck) consumer.unacked++;
      consumer.connection.send((w) =>
        w.writeDeliver(consumer.channel, consumer.tag, deliveryTag, false, publish.exchange, publish.routingKey,
          publish.properties, publish.encodedProperties, body, FRAME_MAX),
      );
      const full = consumer.connection.socket.writableLength > CONSUMER_HIGH_WATER_BYTES || pastCredit(consumer);
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
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const { port } = await startNullBroker(Number(values.port));
  process.stdout.write(`null broker listening on 127.0.0.1:${port}\n`);
}
