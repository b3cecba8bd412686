import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from './connection-raw-client.js';

describe('AMQP heartbeats', () => {
  let server: TestBroker;
  before(async () => {
    server = await startBroker();
  });
  after(() => server.close());

  it('sends heartbeats to an idle client and drops it after two silent intervals', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ heartbeat: 1 });
    const started = Date.now();
    const first = await client.nextFrame(1500);
    assert.equal(first.type, 8, 'the server heartbeats within half an interval or so');
    assert.equal(first.channel, 0);
    assert.equal(await client.closedWithin(4000), true, 'a client silent for 2 intervals is dropped');
    const silentFor = Date.now() - started;
    assert.ok(silentFor >= 1900, `dropped after ${silentFor} ms, before two intervals`);
  });

  it('keeps a client that heartbeats', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ heartbeat: 1 });
    const beat = setInterval(() => client.sendHeartbeat(), 400);
    try {
      assert.equal(await client.closedWithin(3200), false);
    } finally {
      clearInterval(beat);
      client.destroy();
    }
  });

  it('keeps amqplib with heartbeat=1 connected for over 3 seconds', async () => {
    const conn = await amqp.connect(`${server.url}?heartbeat=1`);
    let closed = false;
    conn.on('close', () => (closed = true));
    conn.on('error', () => (closed = true));
    await sleep(3200);
    assert.equal(closed, false);
    const channel = await conn.createChannel();
    await channel.close();
    await conn.close();
  });

  it('sends no heartbeats when the client turns them off', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake({ heartbeat: 0 });
    await assert.rejects(client.nextFrame(1200), /no frame within/);
    assert.equal(await client.closedWithin(10), false);
    client.destroy();
  });
});
