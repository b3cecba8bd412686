import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { missingHeader, StompRequestError } from '../errors.js';
import type { HandlerTable } from './types.js';

/** The ack id: 1.2's `id` (the MESSAGE's `ack` header); 1.0 and 1.1 name the `message-id`. */
function ackId(c: StompConnection, frame: StompFrame): string {
  const version = c.requireSession().version;
  const id = version === '1.2' ? frame.headers.get('id') : frame.headers.get('message-id');
  if (id === undefined) throw missingHeader(frame.command, version === '1.2' ? 'id' : 'message-id');
  return id;
}

/**
 * ACK settles the delivery (client mode: with every earlier one of its subscription); NACK gives it
 * back to its queue, or with `requeue:false` drops it (dead-lettered if the queue says so): RabbitMQ's
 * plugin requeues by default.
 */
function settle(c: StompConnection, frame: StompFrame, ack: boolean): void {
  const id = ackId(c, frame);
  const found = c.deliveryFor(id);
  if (found === undefined) throw new StompRequestError('Bad ACK', `no unacknowledged message with ${c.requireSession().version === '1.2' ? 'id' : 'message-id'} '${id}'`);
  const requeue = frame.headers.get('requeue') !== 'false';
  const run = (): void => {
    const taken = found.subscription.take(found.tag);
    for (const held of taken) {
      c.deliveries.delete(held.tag);
      if (ack) held.queue.ack(held.entry);
      else held.queue.reject(held.entry, requeue);
    }
    found.subscription.queue.resumeDispatch();
  };
  const txId = frame.headers.get('transaction');
  if (txId !== undefined) {
    const work = c.transactions.get(txId);
    if (work === undefined) throw new StompRequestError('Bad transaction', `Invalid transaction identifier: ${txId}`);
    work.push(run);
  } else run();
  c.receipt(frame);
}

export const ackHandlers: HandlerTable = {
  ACK: (c, frame) => settle(c, frame, true),
  NACK: (c, frame) => settle(c, frame, false),
};
