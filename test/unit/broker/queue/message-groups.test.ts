import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FieldTable } from '../../../../src/broker/message.js';
import type { Queue } from '../../../../src/broker/queue.js';
import type { VHost } from '../../../../src/broker/vhost.js';
import { declareQueue, FakeConsumer, message, owner, startedVhost } from '../fakes.js';

/** One unacked message per group: the strictest setting, where a free group's consumer preference shows. */
const GROUPED = { arguments: { 'x-message-group-header': 'group', 'x-message-group-max-in-flight': 1 } };
const settleTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const grouped = (maxInFlight?: number) => ({
  arguments: { 'x-message-group-header': 'group', ...(maxInFlight === undefined ? {} : { 'x-message-group-max-in-flight': maxInFlight }) },
});
const inGroup = (body: string) => message('', 'g', body, { headers: { group: body[0]! } });

/** Runs `body` on a fresh broker with a grouped queue 'g' declared with `args`. */
async function withGroupedQueue(args: { arguments: FieldTable }, body: (queue: Queue, vhost: VHost) => Promise<void> | void): Promise<void> {
  const { broker, vhost } = await startedVhost();
  try {
    await body(declareQueue(vhost, 'g', owner(), args), vhost);
  } finally {
    await broker.stop();
  }
}

test('a message group goes back to the consumer that settled its previous message; a new consumer resets that', async () => {
  await withGroupedQueue(GROUPED, async (queue, vhost) => {
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
  });
});

test('a preferred consumer without room is passed over', async () => {
  await withGroupedQueue(GROUPED, async (queue, vhost) => {
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
  });
});

test('an owned group sends its consumer more, up to the in-flight cap; other groups go to the other consumer', async () => {
  await withGroupedQueue(grouped(3), async (queue, vhost) => {
    const a = new FakeConsumer('a');
    const b = new FakeConsumer('b');
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (let i = 0; i < 5; i++) for (const group of ['x', 'y']) vhost.publish(inGroup(`${group}${i}`));
    assert.deepEqual([a.bodies(), b.bodies()], [['x0', 'x1', 'x2'], ['y0', 'y1', 'y2']], 'three of each group out, each group with one consumer');
    a.ack(1);
    await settleTurn();
    assert.deepEqual(a.bodies(), ['x0', 'x1', 'x2', 'x3'], 'an ack below the cap lets the owner have the next one');
    a.ack();
    b.ack();
    await settleTurn();
    assert.deepEqual([a.bodies().slice(4), b.bodies().slice(3)], [['x4'], ['y3', 'y4']]);
  });
});

test('with the default cap a consumer takes a backlog in runs of up to ten per group, oldest group first', async () => {
  await withGroupedQueue(grouped(), async (queue, vhost) => {
    for (let i = 0; i < 12; i++) for (const group of ['x', 'y']) vhost.publish(inGroup(`${group}${i}`));
    const a = new FakeConsumer('a');
    queue.addConsumer(a);
    const run = (group: string) => Array.from({ length: 9 }, (_, i) => `${group}${i + 1}`);
    // x0 and y0 are the oldest heads; then each group it holds runs up to the cap (ten out).
    assert.deepEqual(a.bodies(), ['x0', 'y0', ...run('x'), ...run('y')]);
    assert.equal(queue.readyCount(), 4);
    a.ack(1);
    await settleTurn();
    assert.deepEqual(a.bodies().slice(20), ['x10'], 'room in x: its next message');
  });
});

test('a group whose owner is full waits for it; other consumers get only other groups', async () => {
  await withGroupedQueue(grouped(), async (queue, vhost) => {
    const a = new FakeConsumer('a', { prefetch: 2 });
    const b = new FakeConsumer('b');
    queue.addConsumer(a);
    queue.addConsumer(b);
    for (const body of ['x0', 'x1', 'x2', 'y0', 'x3']) vhost.publish(inGroup(body));
    assert.deepEqual([a.bodies(), b.bodies()], [['x0', 'x1'], ['y0']]);
    a.ack();
    await settleTurn();
    assert.deepEqual(a.bodies(), ['x0', 'x1', 'x2', 'x3'], 'x stays with a, in order');
    assert.deepEqual(b.bodies(), ['y0']);
  });
});

test('a requeued message blocks its group until the rest out are settled; then the group restarts from it', async () => {
  await withGroupedQueue(grouped(), async (queue, vhost) => {
    const a = new FakeConsumer('a');
    queue.addConsumer(a);
    for (const body of ['x0', 'x1', 'x2']) vhost.publish(inGroup(body));
    const b = new FakeConsumer('b');
    queue.addConsumer(b);
    const [x0] = a.outstanding.splice(0, 1);
    queue.reject(x0!.entry, true);
    vhost.publish(inGroup('x3'));
    await settleTurn();
    assert.deepEqual([a.bodies(), b.bodies()], [['x0', 'x1', 'x2'], []], 'nothing of x goes out while x1 and x2 are');
    a.ack();
    await settleTurn();
    const second = [...a.received.slice(3), ...b.received];
    assert.deepEqual(second.map((r) => r.body), ['x0', 'x3'], 'x0 again first, then x3');
    assert.equal(second[0]!.redelivered, true);
    assert.ok(a.received.length === 5 || b.received.length === 2, 'the restarted group went to one consumer');
  });
});

test('when its consumer goes, a group moves on once what that consumer held came back, in order', async () => {
  await withGroupedQueue(grouped(), async (queue, vhost) => {
    const a = new FakeConsumer('a', { prefetch: 2 });
    queue.addConsumer(a);
    for (const body of ['x0', 'x1', 'x2']) vhost.publish(inGroup(body));
    const b = new FakeConsumer('b');
    queue.addConsumer(b);
    queue.removeConsumer(a);
    await settleTurn();
    assert.deepEqual(b.bodies(), [], 'x2 waits while x0 and x1 are still out');
    a.requeueAll();
    await settleTurn();
    assert.deepEqual(b.bodies(), ['x0', 'x1', 'x2']);
    assert.deepEqual(b.received.map((r) => r.redelivered), [true, true, false]);
  });
});

test('a delivery taken back by the consumer timeout holds its group until the rest out are settled', async () => {
  await withGroupedQueue({ arguments: { ...grouped().arguments, 'x-consumer-timeout': 200 } }, async (queue, vhost) => {
    const a = new FakeConsumer('a');
    queue.addConsumer(a);
    for (const body of ['x0', 'x1']) vhost.publish(inGroup(body));
    assert.deepEqual(a.bodies(), ['x0', 'x1']);
    const b = new FakeConsumer('b');
    queue.addConsumer(b);
    // Keep x1 alive past the timeout; let x0 be taken back.
    const [, x1] = a.outstanding;
    for (let waited = 0; queue.readyCount() === 0 && waited < 2_000; waited += 5) {
      queue.extendDelivery(x1!.entry);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    assert.equal(queue.readyCount(), 1, 'x0 is back');
    assert.deepEqual(b.bodies(), [], 'but waits: x1 of its group is still out');
    queue.ack(x1!.entry);
    a.outstanding.splice(1, 1);
    await settleTurn();
    const redelivered = [...a.received.slice(2), ...b.received];
    assert.deepEqual(redelivered.map((r) => r.body), ['x0']);
    assert.equal(redelivered[0]!.redelivered, true);
  });
});
