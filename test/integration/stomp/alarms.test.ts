/** A resource alarm holds STOMP publishers as it holds AMQP ones (RabbitMQ's connection.blocked rule). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Inbox, startStompServer, stompjsClient } from './helpers.js';

test('while an alarm is raised a SEND is held (state blocked); clearing it lets the message through', async () => {
  const broker = await startStompServer();
  try {
    const consumer = await stompjsClient(broker.wsUrl);
    const inbox = new Inbox();
    consumer.subscribe('/queue/held', inbox.push);
    const publisher = await stompjsClient(broker.wsUrl);
    broker.server.alarms.set('memory', true);
    // The SEND that meets the alarm goes through and blocks the connection: nothing after it is read.
    publisher.publish({ destination: '/queue/held', body: 'first' });
    assert.equal((await inbox.next()).body, 'first');
    publisher.publish({ destination: '/queue/held', body: 'second' });
    await new Promise((r) => setTimeout(r, 300));
    const states = [...broker.server.doorListeners.flatMap((l) => [...l.connections()])].map((c) => c.info().state);
    assert.ok(states.includes('blocked'), JSON.stringify(states));
    assert.equal(inbox.messages.length, 0, 'the SEND after the alarm is held');
    broker.server.alarms.set('memory', false);
    assert.equal((await inbox.next()).body, 'second');
    await consumer.deactivate();
    await publisher.deactivate();
  } finally {
    await broker.close();
  }
});
