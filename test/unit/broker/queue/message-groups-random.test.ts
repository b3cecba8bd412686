import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueEntry } from '../../../../src/broker/front-door.js';
import type { Queue } from '../../../../src/broker/queue.js';
import { seededRandom, type Rng } from '../../../../src/util/prng.js';
import { declareQueue, FakeConsumer, message, owner, startedVhost } from '../fakes.js';

const GROUPS = ['a', 'b', 'c', 'd', 'e', 'f'];
const settleTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What the test knows of one message: its group (undefined: ungrouped) and publish number in it. */
interface Sent {
  group: string | undefined;
  n: number;
}

/**
 * Random publishes, acks, requeues, drops and consumers coming and going on a grouped queue, checking
 * after every delivery and step what message groups promise: a delivered message is the oldest of its
 * group still waiting; a group's unacked messages are with one consumer and at most the cap; in the end
 * every message not dropped is acked exactly once.
 */
class Model {
  /** Per group: publish numbers waiting (published or returned, not out). */
  readonly waiting = new Map<string, Set<number>>();
  readonly acked = new Set<string>();
  ackCount = 0;
  dropped = 0;
  published = 0;
  violations: string[] = [];

  constructor(readonly cap: number) {}

  sent(entry: QueueEntry): Sent {
    const [group, n] = entry.message.body.toString().split(':');
    return { group: group === '-' ? undefined : group, n: Number(n) };
  }

  ack(entry: QueueEntry): void {
    this.acked.add(entry.message.body.toString());
    this.ackCount++;
  }

  publish(group: string | undefined, n: number): void {
    this.published++;
    if (group !== undefined) this.waitingOf(group).add(n);
  }

  delivered(entry: QueueEntry): void {
    const { group, n } = this.sent(entry);
    if (group === undefined) return;
    const waiting = this.waitingOf(group);
    const oldest = Math.min(...waiting);
    if (n !== oldest) this.violations.push(`${group}:${n} delivered while ${group}:${oldest} waits`);
    waiting.delete(n);
  }

  returned(entry: QueueEntry): void {
    const { group, n } = this.sent(entry);
    if (group !== undefined) this.waitingOf(group).add(n);
  }

  /** Checks who holds what: one consumer per group, at most `cap` of it. */
  checkHolders(consumers: readonly FakeConsumer[]): void {
    const holders = new Map<string, { consumer: FakeConsumer; count: number }>();
    for (const consumer of consumers) {
      for (const { entry } of consumer.outstanding) {
        const { group } = this.sent(entry);
        if (group === undefined) continue;
        const held = holders.get(group);
        if (held === undefined) holders.set(group, { consumer, count: 1 });
        else if (held.consumer !== consumer) this.violations.push(`${group} held by ${held.consumer.tag} and ${consumer.tag}`);
        else if (++held.count > this.cap) this.violations.push(`${held.count} of ${group} out, cap ${this.cap}`);
      }
    }
  }

  private waitingOf(group: string): Set<number> {
    let waiting = this.waiting.get(group);
    if (waiting === undefined) this.waiting.set(group, (waiting = new Set()));
    return waiting;
  }
}

/** A FakeConsumer that reports each delivery to the model as it happens. */
class Probe extends FakeConsumer {
  constructor(
    tag: string,
    prefetch: number,
    private readonly model: Model,
  ) {
    super(tag, { prefetch });
  }

  override deliver(entry: QueueEntry, queue: Queue): void {
    this.model.delivered(entry);
    super.deliver(entry, queue);
  }
}

function pick<T>(random: Rng, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}

async function runScenario(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const cap = 1 + Math.floor(random() * 4);
  const model = new Model(cap);
  const { broker, vhost } = await startedVhost();
  try {
    const queue = declareQueue(vhost, 'g', owner(), { arguments: { 'x-message-group-header': 'group', 'x-message-group-max-in-flight': cap } });
    const consumers: Probe[] = [];
    const counters = new Map<string, number>();
    let nextTag = 0;
    const addConsumer = (): void => {
      const consumer = new Probe(`c${nextTag++}`, Math.floor(random() * 6), model);
      consumers.push(consumer);
      queue.addConsumer(consumer);
    };
    addConsumer();

    for (let step = 0; step < 1500; step++) {
      const action = random();
      const consumer = pick(random, consumers);
      if (action < 0.4) {
        const group = random() < 0.1 ? undefined : pick(random, GROUPS)!;
        const n = counters.get(group ?? '-') ?? 0;
        counters.set(group ?? '-', n + 1);
        model.publish(group, n);
        vhost.publish(message('', 'g', `${group ?? '-'}:${n}`, group === undefined ? {} : { headers: { group } }));
      } else if (action < 0.7 && consumer !== undefined && consumer.outstanding.length !== 0) {
        // Acks in any order, not only the oldest first.
        const [held] = consumer.outstanding.splice(Math.floor(random() * consumer.outstanding.length), 1);
        model.ack(held!.entry);
        queue.ack(held!.entry);
        queue.resumeDispatch();
      } else if (action < 0.8 && consumer !== undefined && consumer.outstanding.length !== 0) {
        const [held] = consumer.outstanding.splice(Math.floor(random() * consumer.outstanding.length), 1);
        const requeue = random() < 0.7;
        if (requeue) model.returned(held!.entry);
        else model.dropped++;
        queue.reject(held!.entry, requeue);
      } else if (action < 0.86 && consumers.length < 4) {
        addConsumer();
      } else if (action < 0.9 && consumer !== undefined && consumers.length > 1) {
        consumers.splice(consumers.indexOf(consumer), 1);
        queue.removeConsumer(consumer);
        for (const { entry } of consumer.outstanding) model.returned(entry);
        consumer.requeueAll(); // its channel closes
      }
      await settleTurn();
      model.checkHolders(consumers);
      assert.deepEqual(model.violations, [], `seed ${seed}, step ${step}`);
    }

    // Everything left goes out and is acked; nothing may be stuck.
    for (let round = 0; round < 5000 && model.acked.size + model.dropped < model.published; round++) {
      for (const consumer of consumers) {
        for (const { entry } of consumer.outstanding) model.ack(entry);
        consumer.ack();
      }
      await settleTurn();
    }
    assert.deepEqual(model.violations, [], `seed ${seed}, draining`);
    assert.equal(model.acked.size + model.dropped, model.published, `seed ${seed}: every message acked or dropped`);
    assert.equal(model.ackCount, model.acked.size, `seed ${seed}: no message delivered twice without a requeue`);
    assert.equal(queue.readyCount() + queue.unackedCount(), 0);
  } finally {
    await broker.stop();
  }
}

test('message groups hold their promises under random publishes, acks, requeues and consumer changes', async () => {
  for (let seed = 1; seed <= 12; seed++) await runScenario(seed);
});
