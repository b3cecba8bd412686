import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChannelHost } from '../../../src/amqp/channel/host.js';
import type { Frame } from '../../../src/amqp/codec/frames.js';
import type { ChannelLike } from '../../../src/amqp/connection.js';
import { MethodId } from '../../../src/amqp/spec/generated.js';
import { ChannelError, ChannelReplyCode, ConnectionError, ConnectionReplyCode } from '../../../src/amqp/errors.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from './connection-raw-client.js';

/**
 * Stand-in channels that fail on command, so the connection layer's side of the seam is tested on its
 * own. basic.qos prefetch-count selects the behaviour.
 */
const Command = {
  ChannelError: 406,
  Crash: 541,
  ConnectionError: 503,
  ReportAsync: 1,
  Flood: 2,
} as const;

class StandInChannel implements ChannelLike {
  readonly frames: Frame[] = [];
  teardowns = 0;
  resumes = 0;
  floodFrames = 0;

  constructor(
    readonly id: number,
    readonly host: ChannelHost,
  ) {}

  handleFrame(frame: Frame): void {
    this.frames.push(frame);
    if (frame.type !== 1 || frame.method.id !== MethodId.BasicQos) return;
    switch (frame.method.args.prefetchCount) {
      case Command.ChannelError:
        throw new ChannelError(ChannelReplyCode.PreconditionFailed, 'stand-in refuses');
      case Command.Crash:
        throw new TypeError('stand-in bug');
      case Command.ConnectionError:
        throw new ConnectionError(ConnectionReplyCode.CommandInvalid, 'stand-in hates this');
      case Command.ReportAsync:
        setImmediate(() => this.host.reportAsyncError?.(this.id, new ChannelError(ChannelReplyCode.NotFound, 'later')));
        return;
      case Command.Flood:
        this.flood();
        return;
    }
  }

  /** Writes 64 KiB deliveries until the host says stop, as a consumer under back-pressure does. */
  private flood(): void {
    const body = Buffer.alloc(64 * 1024, 1);
    const deliver = {
      id: MethodId.BasicDeliver,
      args: { consumerTag: 'c', deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q' },
    } as const;
    while (this.host.writable()) {
      this.host.writer.writeContent(this.id, deliver, {}, undefined, body, this.host.frameMax);
      this.floodFrames++;
    }
    this.host.scheduleFlush();
  }

  resume(): void {
    this.resumes++;
  }

  teardown(): void {
    this.teardowns++;
  }
}

describe('AMQP channel table and close handshakes', () => {
  let server: TestBroker;
  let made: StandInChannel[] = [];
  let client: RawAmqpClient;

  before(async () => {
    server = await startBroker({
      listener: {
        highWaterMark: 256 * 1024,
        channelFactory: (id, host) => {
          const channel = new StandInChannel(id, host);
          made.push(channel);
          return channel;
        },
      },
    });
  });
  after(async () => {
    client.destroy();
    await server.close();
  });
  beforeEach(async () => {
    made = [];
    client?.destroy();
    client = await RawAmqpClient.connect(server.port);
    await client.handshake();
  });

  const qos = (channel: number, prefetchCount: number): void =>
    client.sendMethod(channel, { id: MethodId.BasicQos, args: { prefetchSize: 0, prefetchCount, global: false } });

  it('opens a channel, passes its frames on, and closes it on request', async () => {
    await client.openChannel(1);
    qos(1, 10);
    client.sendMethod(1, { id: MethodId.ChannelClose, args: { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 } });
    const closeOk = await client.expectMethod(MethodId.ChannelCloseOk);
    assert.equal(closeOk.channel, 1);
    assert.equal(made[0]!.frames.length, 1);
    assert.equal(made[0]!.teardowns, 1);
    await client.openChannel(1);
    assert.equal(made.length, 2, 'the number is free again');
  });

  it('turns a ChannelError into channel.close, ignores frames until close-ok, then frees the number', async () => {
    await client.openChannel(3);
    qos(3, Command.ChannelError);
    const close = await client.expectMethod(MethodId.ChannelClose);
    assert.equal(close.channel, 3);
    assert.deepEqual(close.args, {
      replyCode: 406,
      replyText: 'PRECONDITION_FAILED - stand-in refuses',
      classId: 60,
      methodId: 10,
    });
    assert.equal(made[0]!.teardowns, 1);
    qos(3, 5); // in flight before the client saw the close: ignored
    client.sendMethod(3, { id: MethodId.ChannelCloseOk, args: {} });
    await client.openChannel(3);
    assert.equal(made[0]!.frames.length, 1);
    assert.equal(made.length, 2);
  });

  it('answers a channel.close that crosses its own with close-ok', async () => {
    await client.openChannel(2);
    qos(2, Command.ChannelError);
    await client.expectMethod(MethodId.ChannelClose);
    client.sendMethod(2, { id: MethodId.ChannelClose, args: { replyCode: 200, replyText: '', classId: 0, methodId: 0 } });
    await client.expectMethod(MethodId.ChannelCloseOk);
    await client.openChannel(2);
  });

  it('closes a channel for an error reported after handleFrame returned', async () => {
    await client.openChannel(1);
    qos(1, Command.ReportAsync);
    const close = await client.expectMethod(MethodId.ChannelClose);
    assert.equal(close.args.replyCode, 404);
    assert.equal(close.args.replyText, 'NOT_FOUND - later');
  });

  it('turns a ConnectionError from a channel into connection.close and tears every channel down', async () => {
    await client.openChannel(1);
    await client.openChannel(2);
    qos(2, Command.ConnectionError);
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.deepEqual(close.args, { replyCode: 503, replyText: 'COMMAND_INVALID - stand-in hates this', classId: 60, methodId: 10 });
    assert.deepEqual(made.map((c) => c.teardowns), [1, 1]);
    client.sendMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    assert.equal(await client.closedWithin(2000), true);
  });

  it('survives a crashing channel: 541 INTERNAL_ERROR for that connection only', async () => {
    const bystander = await RawAmqpClient.connect(server.port);
    await bystander.handshake();
    await client.openChannel(1);
    qos(1, Command.Crash);
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 541);
    assert.match(close.args.replyText, /^INTERNAL_ERROR/);
    await bystander.openChannel(1);
    bystander.destroy();
  });

  it('refuses a second channel.open with 504', async () => {
    await client.openChannel(1);
    client.sendMethod(1, { id: MethodId.ChannelOpen, args: { reserved1: '' } });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 504);
    assert.equal(close.args.replyText, "CHANNEL_ERROR - second 'channel.open' seen");
  });

  it('refuses frames for a channel that is not open with 504', async () => {
    qos(7, 1);
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 504);
    assert.match(close.args.replyText, /expected 'channel.open'/);
    assert.equal(made.length, 0);
  });

  it('refuses content frames on channel 0 with 505', async () => {
    client.write(Buffer.from([3, 0, 0, 0, 0, 0, 1, 0x41, 0xce]));
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 505);
  });

  it('refuses channel methods on channel 0 with 504 as RabbitMQ does', async () => {
    qos(0, 1);
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 504);
    assert.match(close.args.replyText, /unexpected method in connection state running/);
  });

  it('closes with 530 naming connection.update-secret when the new secret is wrong', async () => {
    client.sendMethod(0, { id: MethodId.ConnectionUpdateSecret, args: { newSecret: Buffer.from('x'), reason: 'r' } });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.deepEqual(close.args, {
      replyCode: 530,
      replyText: 'NOT_ALLOWED - New secret was refused by one of the backends',
      classId: 10,
      methodId: 70,
    });
  });

  it('reports back-pressure past the high-water mark and resumes channels on drain', async () => {
    await client.openChannel(1);
    qos(1, Command.Flood);
    let deliveries = 0;
    while (deliveries < 4) {
      const method = await client.nextMethod();
      if (method.method.id === MethodId.BasicDeliver) deliveries++;
    }
    const channel = made[0]!;
    assert.ok(channel.floodFrames >= 4 && channel.floodFrames <= 8, `stopped after ${channel.floodFrames} deliveries`);
    // The raw client keeps reading, so the socket drains and the channel is told to go on.
    const deadline = Date.now() + 3000;
    while (channel.resumes === 0 && Date.now() < deadline) await client.nextFrame(1000).catch(() => undefined);
    assert.ok(channel.resumes >= 1);
  });
});
