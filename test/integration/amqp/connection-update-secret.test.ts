import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChannelModel } from 'amqplib';
import { expectConnectionError, session, waitFor } from './amqp-helpers.js';

/**
 * amqplib's updateSecret waits for update-secret-ok only: when the connection closes instead, its
 * promise never settles. So a refused update is sent without waiting for it.
 */
function updateWithoutWaiting(conn: ChannelModel, secret: string): void {
  void conn.updateSecret(Buffer.from(secret), 'refused in this test');
}

/** connection.update-secret (RabbitMQ 3.8+) through amqplib's connection.updateSecret. */
describe('connection.update-secret', { timeout: 20_000 }, () => {
  it('accepts the current password and the connection goes on', async (t) => {
    const s = await session(t);
    const conn = await s.connect();
    await conn.updateSecret(Buffer.from('guest'), 'token refreshed');
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('after the update'));
    const msg = await ch.get(queue, { noAck: true });
    assert.ok(msg !== false);
    assert.equal(msg.content.toString(), 'after the update');
  });

  it('accepts a rotated password, which the old one no longer is', async (t) => {
    const s = await session(t);
    const conn = await s.connect();
    s.broker.users.changePassword('guest', 'rotated');
    await conn.updateSecret(Buffer.from('rotated'), 'rotation');
    await expectConnectionError(
      conn,
      () => updateWithoutWaiting(conn, 'guest'),
      530,
      'NOT_ALLOWED - New secret was refused by one of the backends',
    );
  });

  it('closes the connection with 530 NOT_ALLOWED on a wrong secret', async (t) => {
    const s = await session(t);
    const conn = await s.connect();
    // events.once would reject on the 'error' that comes first; the close is what is awaited here.
    const closed = new Promise((resolve) => conn.once('close', resolve));
    await expectConnectionError(
      conn,
      () => updateWithoutWaiting(conn, 'wrong'),
      530,
      'NOT_ALLOWED - New secret was refused by one of the backends',
    );
    await closed;
    await waitFor(() => s.broker.listener.amqpConnections.size === 0, 'the server to drop the connection');
  });
});
