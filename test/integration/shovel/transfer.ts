import amqp from 'amqplib';
import { sleep, waitFor } from '../../helpers/wait.js';

// The shovel fault tests' two ends of a transfer: fill a source queue with numbered persistent messages,
// and drain a destination counting distinct ids against deliveries (so duplicates are measured, not guessed).

/** Small bodies, so that 100k messages move in seconds. */
const BODY = 64;

/** `count` persistent messages with message ids 0..count-1, confirmed in rounds of 5000. */
export async function fill(url: string, queue: string, count: number): Promise<void> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (let i = 0; i < count; i++) {
    channel.sendToQueue(queue, Buffer.alloc(BODY, i % 256), { persistent: true, messageId: String(i) });
    if (i % 5000 === 4999) await channel.waitForConfirms();
  }
  await channel.waitForConfirms();
  await connection.close();
}

/**
 * Consumes (and acks) the queue until `unique` distinct ids arrived and, if given, `settled` holds (the
 * shovel has nothing left at its source: duplicates may still be on their way until then).
 */
export async function drainCounting(url: string, queue: string, unique: number, settled?: () => Promise<boolean>): Promise<{ unique: number; total: number }> {
  const connection = await amqp.connect(url);
  const channel = await connection.createChannel();
  await channel.prefetch(1000);
  const ids = new Set<string>();
  let total = 0;
  await channel.consume(queue, (m) => {
    if (m === null) return;
    total++;
    ids.add(String(m.properties.messageId));
    channel.ack(m);
  });
  await waitFor(() => ids.size >= unique, `${unique} distinct messages in ${queue} (have ${ids.size})`, 90_000);
  if (settled !== undefined) await waitFor(settled, `the source of ${queue} drained`, 30_000);
  await sleep(300);
  await connection.close();
  return { unique: ids.size, total };
}
