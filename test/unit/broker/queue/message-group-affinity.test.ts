import assert from 'node:assert/strict';
import { test } from 'node:test';
import { declareQueue, FakeConsumer, message, owner, startedVhost } from '../fakes.js';

const GROUPED = { arguments: { 'x-message-group-header': 'group' } };
const settleTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a message group goes back to the consumer that settled its previous message; a new consumer resets that', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const queue = declareQueue(vhost, 'g', owner(), GROUPED);
    const a = new FakeConsumer('a');
    const b = new FakeConsumer('b');
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (let i = 0; i < 3; i++) {
      for (const group of ['x', 'y']) vhost.publish(message('', 'g', `${group}${i}`, { headers: { group } }));
    }
    assert.deepEqual([a.bodies(), b.bodies()], [['x0'], ['y0']], 'first deliveries go round-robin');

    // Settled in the other order: plain round-robin would now swap the groups over.
    b.ack();
    a.ack();
    await settleTurn();
    assert.deepEqual([a.bodies(), b.bodies()], [['x0', 'x1'], ['y0', 'y1']], 'each group stays with its consumer');

    const c = new FakeConsumer('c');
    queue.addConsumer(c);
    b.ack();
    a.ack();
    await settleTurn();
    assert.deepEqual(c.bodies(), ['y2'], 'after a consumer joined, groups are dealt out round-robin again');
    assert.deepEqual(a.bodies(), ['x0', 'x1', 'x2']);
  } finally {
    await broker.stop();
  }
});

test('a preferred consumer without room is passed over', async () => {
  const { broker, vhost } = await startedVhost();
  try {
    const queue = declareQueue(vhost, 'g', owner(), GROUPED);
    const a = new FakeConsumer('a', { prefetch: 1 });
    const b = new FakeConsumer('b');
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (const body of ['x0', 'y0', 'x1']) vhost.publish(message('', 'g', body, { headers: { group: body[0]! } }));
    assert.deepEqual([a.bodies(), b.bodies()], [['x0'], ['y0']]);
    a.paused = true; // a settles x0 but cannot take x1
    a.ack();
    await settleTurn();
    assert.deepEqual(b.bodies(), ['y0', 'x1']);
  } finally {
    await broker.stop();
  }
});
