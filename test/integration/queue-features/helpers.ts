/** Plumbing shared by the queue-feature tests (on top of the channel-layer test helpers). */
import type { Channel, GetMessage } from 'amqplib';
import type { Queue } from '../../../src/broker/queue.js';
import type { Session } from '../amqp/amqp-helpers.js';
import { sleep } from '../amqp/amqp-helpers.js';

/** Polls basic.get until a message arrives; fails after `timeoutMs`. */
export async function getOne(ch: Channel, queue: string, timeoutMs = 3000): Promise<GetMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg !== false) return msg;
    if (Date.now() > until) throw new Error(`no message in '${queue}' within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Waits until `condition` holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The broker's own Queue object behind a name in vhost '/'. */
export function brokerQueue(s: Session, name: string): Queue {
  const queue = s.broker.broker.getVhost('/')?.getQueue(name);
  if (queue === undefined) throw new Error(`no queue '${name}'`);
  return queue;
}

/** Drains a queue with basic.get (no-ack) and returns the bodies. */
export async function drain(ch: Channel, queue: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let msg = await ch.get(queue, { noAck: true }); msg !== false; msg = await ch.get(queue, { noAck: true })) {
    bodies.push(msg.content.toString());
  }
  return bodies;
}

/** x-death entries as amqplib decodes them. */
export type Death = Record<string, unknown>;

export function deathsOf(msg: { properties: { headers?: Record<string, unknown> } }): Death[] {
  const deaths = msg.properties.headers?.['x-death'];
  return Array.isArray(deaths) ? (deaths as Death[]) : [];
}
