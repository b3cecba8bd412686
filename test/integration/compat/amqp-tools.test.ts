/**
 * The rabbitmq-c command-line tools (Debian's amqp-tools): declare, publish with properties and headers,
 * line-buffered publishing, get, consume with a count and prefetch, consume from a server-named queue
 * bound to an exchange, delete, and the errors they print for missing queues and exchanges. amqplib
 * reads back what the C client published, so the two clients check each other.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import amqplib from 'amqplib';
import type { TestBroker } from '../../helpers/broker.js';
import { assertAllConnectionsClosed, brokerFor, missingFiles, runClient, startClient, type ClientResult } from './compat-helpers.js';

const TOOLS = ['declare-queue', 'publish', 'get', 'consume', 'delete-queue'].map((name) => `/usr/bin/amqp-${name}`);
const skip = missingFiles(TOOLS, 'amqp-tools');

function tool(t: TestContext, broker: TestBroker, name: string, args: readonly string[], input?: string): Promise<ClientResult> {
  return runClient(t, `/usr/bin/amqp-${name}`, ['--url', broker.url, ...args], { timeoutMs: 10_000, ...(input === undefined ? {} : { input }) });
}

function assertExit(result: ClientResult, code: number, what: string): void {
  assert.equal(result.code, code, `${what}: exit ${result.code ?? result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

test('amqp-tools (rabbitmq-c) work unmodified against Warren', { skip, timeout: 60_000 }, async (t) => {
  const broker = await brokerFor(t);
  const queue = 'tools-queue';

  const declared = await tool(t, broker, 'declare-queue', ['-q', queue, '-d']);
  assertExit(declared, 0, 'amqp-declare-queue');
  assert.equal(declared.stdout.trim(), queue);
  assert.equal(broker.broker.getVhost('/')?.getQueue(queue)?.durable, true, 'queue declared durable');

  const published = await tool(t, broker, 'publish', ['-r', queue, '-b', 'first', '-p', '-C', 'text/plain', '-E', 'utf-8', '-t', 'replies', '-H', 'x-origin: amqp-tools', '-H', 'x-second: 2']);
  assertExit(published, 0, 'amqp-publish');
  assertExit(await tool(t, broker, 'publish', ['-r', queue, '-l'], 'line-a\nline-b\nline-c\n'), 0, 'amqp-publish -l');

  await assertPublishedProperties(broker, queue);

  const got = await tool(t, broker, 'get', ['-q', queue]);
  assertExit(got, 0, 'amqp-get');
  assert.equal(got.stdout, 'first');

  // amqp-publish -l keeps each line's newline in the body; amqp-consume pipes each body into `cat`.
  const consumed = await tool(t, broker, 'consume', ['-q', queue, '-c', '3', '-p', '1', 'cat']);
  assertExit(consumed, 0, 'amqp-consume -c 3');
  assert.equal(consumed.stdout, 'line-a\nline-b\nline-c\n');

  assertExit(await tool(t, broker, 'get', ['-q', queue]), 2, 'amqp-get on an empty queue');

  await consumeFromExchange(t, broker);

  const deleted = await tool(t, broker, 'delete-queue', ['-q', queue]);
  assertExit(deleted, 0, 'amqp-delete-queue');
  assert.equal(deleted.stdout.trim(), '0', 'messages deleted with the queue');
  assert.equal(broker.broker.getVhost('/')?.getQueue(queue), undefined);

  const missingQueue = await tool(t, broker, 'get', ['-q', queue]);
  assertExit(missingQueue, 1, 'amqp-get on a deleted queue');
  assert.match(missingQueue.stderr, /server channel error 404, message: NOT_FOUND - no queue 'tools-queue' in vhost '\/'/);
  const missingExchange = await tool(t, broker, 'publish', ['-e', 'no-such-exchange', '-r', 'k', '-b', 'x']);
  assertExit(missingExchange, 1, 'amqp-publish to a missing exchange');
  assert.match(missingExchange.stderr, /404, message: NOT_FOUND - no exchange 'no-such-exchange' in vhost '\/'/);

  await assertAllConnectionsClosed(broker);
});

/** amqplib peeks at what amqp-publish sent (then requeues it), so both clients' encodings meet. */
async function assertPublishedProperties(broker: TestBroker, queue: string): Promise<void> {
  const connection = await amqplib.connect(broker.url);
  try {
    const channel = await connection.createChannel();
    const message = await channel.get(queue, { noAck: false });
    assert.ok(message !== false, 'message published by amqp-publish is in the queue');
    assert.equal(message.content.toString(), 'first');
    assert.equal(message.properties.contentType, 'text/plain');
    assert.equal(message.properties.contentEncoding, 'utf-8');
    assert.equal(message.properties.replyTo, 'replies');
    assert.equal(message.properties.deliveryMode, 2);
    assert.deepEqual(message.properties.headers, { 'x-origin': 'amqp-tools', 'x-second': '2' });
    channel.nack(message, false, true);
    const { messageCount } = await channel.checkQueue(queue);
    assert.equal(messageCount, 4);
  } finally {
    await connection.close();
  }
}

/** amqp-consume -e: a server-named exclusive queue bound to amq.fanout, fed by amqp-publish -e. */
async function consumeFromExchange(t: TestContext, broker: TestBroker): Promise<void> {
  const consumer = startClient(t, '/usr/bin/amqp-consume', ['--url', broker.url, '-e', 'amq.fanout', '-r', 'any', '-x', '-c', '1', 'cat'], {
    timeoutMs: 10_000,
  });
  await consumer.waitForOutput(/Server provided queue name: (amq\.gen-\S+)/);
  const name = /Server provided queue name: (amq\.gen-\S+)/.exec(consumer.stderr)?.[1] ?? '';
  // Published only once the consumer is on (after its bind), or the fanout would drop the message.
  while (broker.broker.getVhost('/')?.getQueue(name)?.consumerCount() !== 1) {
    if (consumer.child.exitCode !== null) assert.fail(`amqp-consume ended early\n${consumer.describe()}`);
    await delay(20);
  }
  assertExit(await tool(t, broker, 'publish', ['-e', 'amq.fanout', '-b', 'fanned out']), 0, 'amqp-publish -e amq.fanout');
  const result = await consumer.result;
  assertExit(result, 0, 'amqp-consume -e amq.fanout -x -c 1');
  assert.equal(result.stdout, 'fanned out');
  assert.equal(broker.broker.getVhost('/')?.getQueue(name), undefined, 'exclusive queue gone with its connection');
}
