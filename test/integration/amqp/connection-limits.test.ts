import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { MethodId } from '../../../src/amqp/spec/generated.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { waitFor } from '../../helpers/wait.js';
import { RawAmqpClient } from './connection-raw-client.js';

/** A method frame on `channel` whose payload is `size` bytes of basic.qos-looking garbage. */
function oversizeFrame(channel: number, payloadSize: number): Buffer {
  const frame = Buffer.alloc(7 + payloadSize + 1);
  frame.writeUInt8(1, 0);
  frame.writeUInt16BE(channel, 1);
  frame.writeUInt32BE(payloadSize, 3);
  frame.writeUInt16BE(60, 7);
  frame.writeUInt16BE(10, 9);
  frame.writeUInt8(0xce, 7 + payloadSize);
  return frame;
}

describe('AMQP connection limits', () => {
  let server: TestBroker;
  before(async () => {
    server = await startBroker({ listener: { limits: { channelMax: 8, frameMax: 16384, maxConnections: 3 } } });
  });
  after(() => server.close());

  it('offers its channel-max and frame-max in connection.tune', async () => {
    const client = await RawAmqpClient.connect(server.port);
    const tune = await client.handshake();
    assert.deepEqual(tune, { channelMax: 8, frameMax: 16384, heartbeat: 60 });
    client.destroy();
  });

  it('takes a lower frame-max from the client and enforces it with 501 FRAME_ERROR', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ frameMax: 4096 });
    await client.openChannel(1);
    client.write(oversizeFrame(1, 4097));
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 501);
    assert.match(close.args.replyText, /^FRAME_ERROR/);
    client.sendMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    assert.equal(await client.closedWithin(2000), true);
  });

  it('accepts a body frame of exactly the negotiated frame-max', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ frameMax: 4096 });
    await client.openChannel(1);
    const publish = { reserved1: 0, exchange: '', routingKey: 'nowhere', mandatory: false, immediate: false };
    // 4088 payload bytes + 7 header + 1 end = one frame of exactly 4096 bytes.
    client.sendContent(1, { id: MethodId.BasicPublish, args: publish }, Buffer.alloc(4088, 7), 4096);
    await client.openChannel(2);
    client.destroy();
  });

  it('rejects a frame above our frame-max when the client takes the default', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ frameMax: 0 });
    await client.openChannel(1);
    client.write(oversizeFrame(1, 16385));
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 501);
    client.destroy();
  });

  for (const [frameMax, pattern] of [
    [2048, /NOT_ALLOWED - negotiated frame_max = 2048 is lower than the minimum allowed value \(4096\)/],
    [65536, /NOT_ALLOWED - negotiated frame_max = 65536 is higher than the maximum allowed value \(16384\)/],
  ] as const) {
    it(`refuses tune-ok frame-max ${frameMax} with 530`, async () => {
      const client = await RawAmqpClient.connect(server.port);
      client.sendHeader();
      await client.expectMethod(MethodId.ConnectionStart);
      client.sendStartOk();
      await client.expectMethod(MethodId.ConnectionTune);
      client.sendMethod(0, { id: MethodId.ConnectionTuneOk, args: { channelMax: 0, frameMax, heartbeat: 0 } });
      const close = await client.expectMethod(MethodId.ConnectionClose);
      assert.equal(close.args.replyCode, 530);
      assert.match(close.args.replyText, pattern);
      client.destroy();
    });
  }

  it('refuses a tune-ok channel-max above ours with 530', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    await client.expectMethod(MethodId.ConnectionStart);
    client.sendStartOk();
    await client.expectMethod(MethodId.ConnectionTune);
    client.sendMethod(0, { id: MethodId.ConnectionTuneOk, args: { channelMax: 100, frameMax: 0, heartbeat: 0 } });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 530);
    assert.match(close.args.replyText, /channel_max = 100 is higher than the maximum allowed value \(8\)/);
    client.destroy();
  });

  it('lets amqplib negotiate a smaller frame-max and channel-max', async () => {
    const conn = await amqp.connect(`${server.url}?frameMax=8192&channelMax=4`);
    const [connection] = [...server.listener.amqpConnections].filter((c) => c.info().state === 'running');
    assert.equal(connection!.frameMax, 8192);
    assert.equal(connection!.channelMax, 4);
    await conn.close();
  });

  it('refuses channel numbers above the negotiated channel-max with 530', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ channelMax: 4 });
    await client.openChannel(4);
    client.sendMethod(5, { id: MethodId.ChannelOpen, args: { reserved1: '' } });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 530);
    assert.match(close.args.replyText, /channel number 5 is higher than the negotiated channel_max \(4\)/);
    assert.deepEqual([close.args.classId, close.args.methodId], [20, 10]);
    client.destroy();
  });

  it('opens every channel up to channel-max', async () => {
    const conn = await amqp.connect(server.url);
    const channels = await Promise.all(Array.from({ length: 8 }, () => conn.createChannel()));
    assert.equal(channels.length, 8);
    await conn.close();
  });

  it('refuses connection.open beyond maxConnections with 530', async () => {
    await waitFor(() => server.listener.amqpConnections.size === 0, 'every connection closed');
    const conns = await Promise.all([amqp.connect(server.url), amqp.connect(server.url), amqp.connect(server.url)]);
    await assert.rejects(amqp.connect(server.url), /Expected ConnectionOpenOk; got <ConnectionClose/);
    const client = await RawAmqpClient.connect(server.port);
    await assert.rejects(client.handshake(), /got a0032 .*"replyCode":530,"replyText":"NOT_ALLOWED - connection refused: node connection limit \(3\) is reached"/);
    client.destroy();
    await conns[0]!.close();
    const again = await amqp.connect(server.url);
    await Promise.all([again.close(), conns[1]!.close(), conns[2]!.close()]);
  });
});

describe('AMQP handshake timeout', () => {
  it('drops a client that does not finish the handshake in time', async () => {
    const server = await startBroker({ listener: { timeouts: { handshakeMs: 300 } } });
    try {
      const silent = await RawAmqpClient.connect(server.port);
      const halfway = await RawAmqpClient.connect(server.port);
      halfway.sendHeader();
      await halfway.expectMethod(MethodId.ConnectionStart);
      const finished = await RawAmqpClient.connect(server.port);
      await finished.handshake();
      assert.equal(await silent.closedWithin(2000), true);
      assert.equal(await halfway.closedWithin(2000), true);
      assert.equal(await finished.closedWithin(500), false, 'an open connection is not subject to the timeout');
      finished.destroy();
    } finally {
      await server.close();
    }
  });
});
