/** Plumbing shared by the queue-feature tests (on top of the channel-layer test helpers). */
import type { Channel } from 'amqplib';
import type { Queue } from '../../../src/broker/queue.js';
import type { Session } from '../amqp/amqp-helpers.js';

export { getOne, waitFor } from '../amqp/amqp-helpers.js';

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
