import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { PublisherFlow, type FlowQueue, type PublisherFlowSettings } from '../../../src/session/publisher-flow.js';

const SETTINGS: PublisherFlowSettings = {
  turnBudgetBytes: 1000,
  queueHighWater: 100,
  queueLowWater: 50,
  idleReleaseMs: 5,
  holdCheckMs: 1,
};

/** A queue stand-in whose backlog and consumers the test sets by hand. */
class FakeQueue implements FlowQueue {
  deleted = false;
  constructor(
    public ready: number,
    public consumers: number,
  ) {}
  readyCount(): number {
    return this.ready;
  }
  consumerCount(): number {
    return this.consumers;
  }
}

function harness(settings: PublisherFlowSettings = SETTINGS) {
  const events: string[] = [];
  const flow = new PublisherFlow(
    {
      pauseInput: () => events.push('pause'),
      resumeInput: () => events.push('resume'),
      notifyBlocked: (reason) => events.push(`blocked ${reason}`),
      notifyUnblocked: () => events.push('unblocked'),
    },
    true,
    settings,
  );
  return { flow, events };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Keeps the event loop busy (never idle) until `done` says stop; the hold must not see idle time. */
async function busyUntil(done: () => boolean, limit = 2000): Promise<void> {
  for (let i = 0; i < limit && !done(); i++) {
    const until = performance.now() + 0.5;
    while (performance.now() < until) {
      // spin: a saturated broker has no idle time
    }
    await nextTurn();
  }
}

test('input beyond the turn budget pauses the socket until the next turn', async () => {
  const { flow, events } = harness();
  flow.countInput(600);
  assert.deepEqual(events, []);
  flow.countInput(600);
  assert.deepEqual(events, ['pause']);
  flow.countInput(600); // the chunk libuv had already read: no second pause
  assert.deepEqual(events, ['pause']);
  await nextTurn();
  assert.deepEqual(events, ['pause', 'resume']);
  flow.countInput(600);
  assert.deepEqual(events, ['pause', 'resume'], 'a new turn starts with a fresh budget');
  flow.stop();
});

test('a publish to a queue without consumers never holds, however long its backlog', () => {
  const { flow, events } = harness();
  flow.publishedTo([new FakeQueue(1_000_000, 0)]);
  assert.deepEqual(events, []);
  assert.equal(flow.creditHolds, 0);
  assert.equal(flow.stateName, 'running');
  flow.stop();
});

test('a publish to a queue whose consumers fall behind holds input until it is down to the low water mark', async () => {
  const { flow, events } = harness();
  const queue = new FakeQueue(101, 1);
  flow.publishedTo([new FakeQueue(5, 1), queue]);
  assert.deepEqual(events, ['pause']);
  assert.equal(flow.stateName, 'flow');
  assert.ok(flow.held);

  queue.ready = 51;
  await busyUntil(() => false, 10);
  assert.deepEqual(events, ['pause'], 'above the low water mark the hold stays');
  queue.ready = 50;
  await busyUntil(() => events.length > 1);
  assert.deepEqual(events, ['pause', 'resume']);
  assert.equal(flow.held, false);
  assert.equal(flow.stateName, 'flow', "RabbitMQ shows 'flow' for a while after the last hold");
  assert.equal(flow.creditHolds, 1);
  flow.stop();
});

test('a hold ends when the consumers go away or the queue is deleted', async () => {
  for (const end of [(q: FakeQueue) => (q.consumers = 0), (q: FakeQueue) => (q.deleted = true)]) {
    const { flow, events } = harness();
    const queue = new FakeQueue(500, 2);
    flow.publishedTo([queue]);
    end(queue);
    await busyUntil(() => events.length > 1);
    assert.deepEqual(events, ['pause', 'resume']);
    flow.stop();
  }
});

test('a hold ends when the event loop has idle time: the broker is not saturated', async () => {
  const { flow, events } = harness();
  flow.publishedTo([new FakeQueue(500, 1)]);
  assert.deepEqual(events, ['pause']);
  // Nothing else to do: the loop sleeps in epoll until the hold's timer, which counts as idle.
  for (let i = 0; i < 200 && events.length < 2; i++) await sleep(5);
  assert.deepEqual(events, ['pause', 'resume']);
  flow.stop();
});

test('credit holds and alarms overlap: input resumes only when neither holds it', async () => {
  const { flow, events } = harness();
  const queue = new FakeQueue(500, 1);
  flow.setAlarm('low on memory');
  assert.equal(flow.stateName, 'blocking');
  flow.block();
  flow.publishedTo([queue]);
  assert.deepEqual(events, ['pause', 'blocked low on memory']);
  queue.ready = 0;
  await busyUntil(() => !flow.held);
  assert.deepEqual(events, ['pause', 'blocked low on memory'], 'still blocked by the alarm');
  flow.setAlarm(undefined);
  assert.deepEqual(events, ['pause', 'blocked low on memory', 'resume', 'unblocked']);
  flow.stop();
});

test('after stop nothing resumes: neither the turn budget nor a hold', async () => {
  const turn = harness();
  turn.flow.countInput(5000);
  turn.flow.stop();
  const hold = harness();
  hold.flow.publishedTo([new FakeQueue(500, 0 + 1)]);
  hold.flow.stop();
  await sleep(30);
  assert.deepEqual(turn.events, ['pause']);
  assert.deepEqual(hold.events, ['pause']);
});
