/**
 * Shared plumbing for the channel-layer integration tests: a broker per test, amqplib connections that
 * are always closed, and helpers that wait for server-sent channel and connection errors.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { TestContext } from 'node:test';
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type GetMessage } from 'amqplib';
import { sleep } from '../../helpers/wait.js';
import { startBroker, type StartBrokerOptions, type TestBroker } from '../../helpers/broker.js';

const require = createRequire(import.meta.url);
/** amqplib's method ids; its typings do not export them. */
export const defs = require('amqplib/lib/defs.js') as Record<string, number>;

/** Error objects amqplib emits for a server-sent channel.close / connection.close. */
export interface ServerCloseError extends Error {
  code: number;
}

export interface Session {
  broker: TestBroker;
  connect(url?: string): Promise<ChannelModel>;
  channel(): Promise<Channel>;
  confirmChannel(): Promise<ConfirmChannel>;
}

/** Starts a broker for one test; everything opened through it is closed when the test ends. */
export async function session(t: TestContext, options?: StartBrokerOptions): Promise<Session> {
  const broker = await startBroker(options);
  const connections: ChannelModel[] = [];
  t.after(async () => {
    for (const c of connections) await c.close().catch(() => undefined);
    await broker.close();
  });
  const connect = async (url = broker.url): Promise<ChannelModel> => {
    const c = await amqplib.connect(url);
    c.on('error', () => undefined); // asserted through connectionError() where a test expects one
    connections.push(c);
    return c;
  };
  let shared: ChannelModel | undefined;
  const sharedConnection = async (): Promise<ChannelModel> => (shared ??= await connect());
  return {
    broker,
    connect,
    async channel() {
      const ch = await (await sharedConnection()).createChannel();
      ch.on('error', () => undefined);
      return ch;
    },
    async confirmChannel() {
      const ch = await (await sharedConnection()).createConfirmChannel();
      ch.on('error', () => undefined);
      return ch;
    },
  };
}

/** Runs `action` and waits for the server to close the channel with `code` and `replyText`. */
export async function expectChannelError(
  ch: Channel,
  action: () => unknown,
  code: number,
  replyText: string | RegExp,
): Promise<void> {
  const closed = once(ch, 'error') as Promise<[ServerCloseError]>;
  try {
    await action();
  } catch {
    // The pending call fails with "Channel ended"; the reason comes with the 'error' event.
  }
  const [err] = await closed;
  assertReply(err, code, replyText);
}

function assertReply(err: ServerCloseError, code: number, replyText: string | RegExp): void {
  assert.equal(err.code, code, err.message);
  if (typeof replyText === 'string') {
    assert.ok(err.message.includes(`"${replyText}"`), `expected reply text "${replyText}" in: ${err.message}`);
  } else {
    assert.match(err.message, replyText);
  }
}

/** Runs `action` and waits for the server to close the whole connection with `code` and `replyText`. */
export async function expectConnectionError(
  conn: ChannelModel,
  action: () => unknown,
  code: number,
  replyText: string,
): Promise<void> {
  const closed = once(conn, 'error') as Promise<[ServerCloseError]>;
  try {
    await action();
  } catch {
    // as above
  }
  const [err] = await closed;
  assertReply(err, code, replyText);
}

/** Consumes until `count` messages have arrived (then cancels); rejects after `timeoutMs`. */
export async function consumeN(
  ch: Channel,
  queue: string,
  count: number,
  options: { noAck?: boolean; timeoutMs?: number } = {},
): Promise<ConsumeMessage[]> {
  const received: ConsumeMessage[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const { consumerTag } = await ch.consume(
    queue,
    (msg) => {
      if (msg === null) return;
      received.push(msg);
      if (received.length === count) done();
    },
    { noAck: options.noAck ?? true },
  );
  await withTimeout(finished, options.timeoutMs ?? 5000, `${received.length}/${count} messages from '${queue}'`);
  await ch.cancel(consumerTag);
  return received;
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets in-flight frames arrive: a round trip on the channel (queue.declare of a passive probe). */
export async function roundTrip(ch: Channel): Promise<void> {
  await ch.checkExchange('amq.direct');
}

export { sleep, waitFor } from '../../helpers/wait.js';

/** Polls basic.get (no-ack) until a message arrives; fails after `timeoutMs`. */
export async function getOne(ch: Channel, queue: string, timeoutMs = 5000): Promise<GetMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const msg = await ch.get(queue, { noAck: true });
    if (msg !== false) return msg;
    if (Date.now() > until) throw new Error(`no message in '${queue}' within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** Low-level RPC for methods amqplib has no API for (tx.*, channel.flow). */
export async function rawRpc(ch: Channel, method: string, fields: object, expect: string): Promise<unknown> {
  const rpc = (ch as unknown as { rpc(m: number, f: object, e: number): Promise<unknown> }).rpc;
  return rpc.call(ch, defs[method] as number, fields, defs[expect] as number);
}

export const bodies = (messages: readonly { content: Buffer }[]): string[] =>
  messages.map((m) => m.content.toString());
