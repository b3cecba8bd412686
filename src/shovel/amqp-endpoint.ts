/**
 * Endpoints on another broker, over AMQP 0-9-1 with amqplib (a well-kept client: reconnection policy,
 * confirms and flow stay ours, the wire protocol is its job). One connection per endpoint.
 */
import { readFileSync } from 'node:fs';
import amqplib, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage, type Options } from 'amqplib';
import type { BasicProperties, FieldTable, FieldValue } from '../broker/message.js';
import { TypedValue } from '../broker/message.js';
import { redactUri } from '../util/uri-secrets.js';
import type { DestTarget, ShovelDestination, ShovelSource, SourceDelivery, SourceOptions } from './endpoint.js';

/** TLS query parameters of RabbitMQ's URI reference (uri-query-parameters) that amqplib does not read. */
const TLS_QUERY = ['cacertfile', 'certfile', 'keyfile', 'verify', 'server_name_indication', 'fail_if_no_peer_cert'];

/** The URI amqplib gets, and its TLS socket options (files read here). */
export function connectArguments(uri: string, connectionName: string): { url: string; socket: Record<string, unknown> } {
  const url = new URL(uri);
  const socket: Record<string, unknown> = { noDelay: true, clientProperties: { connection_name: connectionName, product: 'Warren' } };
  const query = url.searchParams;
  const file = (key: string): Buffer | undefined => {
    const path = query.get(key);
    return path === null ? undefined : readFileSync(path);
  };
  if (url.protocol === 'amqps:') {
    const ca = file('cacertfile');
    const cert = file('certfile');
    const key = file('keyfile');
    if (ca !== undefined) socket['ca'] = [ca];
    if (cert !== undefined) socket['cert'] = cert;
    if (key !== undefined) socket['key'] = key;
    if (query.get('verify') === 'verify_none') socket['rejectUnauthorized'] = false;
    const sni = query.get('server_name_indication');
    socket['servername'] = sni !== null && sni !== 'disable' ? sni : url.hostname;
  }
  for (const key of TLS_QUERY) query.delete(key);
  return { url: url.toString(), socket };
}

async function connect(uri: string, connectionName: string, onFailure: (error: Error) => void): Promise<ChannelModel> {
  const { url, socket } = connectArguments(uri, connectionName);
  let connection: ChannelModel;
  try {
    connection = await amqplib.connect(url, socket);
  } catch (error) {
    // amqplib's messages may quote the URL: never let a password through.
    throw new Error(`cannot connect to ${redactUri(uri)}: ${redactUri((error as Error).message)}`);
  }
  connection.on('error', (error: Error) => onFailure(new Error(`connection to ${redactUri(uri)} failed: ${error.message}`)));
  connection.on('close', (error?: Error) => onFailure(new Error(`connection to ${redactUri(uri)} closed${error === undefined ? '' : `: ${error.message}`}`)));
  connection.on('blocked', () => undefined);
  return connection;
}

/**
 * Closes a connection without waiting forever: amqplib's close() of a connection the server already
 * closed (or whose socket died) may never settle, and a shovel must not hang in its failure path.
 */
async function closeQuietly(connection: ChannelModel | undefined): Promise<void> {
  if (connection === undefined) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 2000);
    timer.unref();
  });
  await Promise.race([connection.close().catch(() => undefined), timeout]);
  clearTimeout(timer);
}

function watch(channel: Channel, what: string, uri: string, onFailure: (error: Error) => void): void {
  channel.on('error', (error: Error) => onFailure(new Error(`${what} channel on ${redactUri(uri)}: ${error.message}`)));
  channel.on('close', () => onFailure(new Error(`${what} channel on ${redactUri(uri)} closed`)));
}

/** Whether a queue exists (a passive declare on a channel of its own, which a 404 closes). */
async function queueLength(connection: ChannelModel, queue: string): Promise<number | undefined> {
  const probe = await connection.createChannel();
  probe.on('error', () => undefined);
  try {
    const ok = await probe.checkQueue(queue);
    await probe.close().catch(() => undefined);
    return ok.messageCount;
  } catch (error) {
    if (/404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

/** The properties amqplib decoded, in the core's model (same names; absent ones left out). */
export function propertiesFromAmqplib(p: ConsumeMessage['properties']): BasicProperties {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) if (value !== undefined && value !== null) out[key] = value;
  return out as BasicProperties;
}

/** A field value amqplib can encode: the core's typed values become plain numbers. */
function plainValue(value: FieldValue): unknown {
  if (value instanceof TypedValue) {
    const v = value.value;
    if (typeof v === 'bigint') return Number(v);
    if (typeof v === 'object') return v.value / 10 ** v.scale;
    return v;
  }
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.map(plainValue);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return plainTable(value);
  return value;
}

function plainTable(table: FieldTable): Record<string, unknown> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [k, plainValue(v)]));
}

export function publishOptions(p: BasicProperties): Options.Publish {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p)) {
    if (value === undefined || key === 'clusterId') continue;
    options[key] = key === 'headers' ? plainTable(value as FieldTable) : value;
  }
  return options as Options.Publish;
}

export class AmqpSource implements ShovelSource {
  private connection: ChannelModel | undefined;
  private channel: Channel | undefined;
  private queue = '';
  private closed = false;
  private consumerTag: string | undefined;
  private onMessage: ((delivery: SourceDelivery) => void) | undefined;
  peerClusterName: string | undefined;

  constructor(
    private readonly uri: string,
    private readonly connectionName: string,
    private readonly options: SourceOptions,
  ) {}

  async open(onMessage: (delivery: SourceDelivery) => void, onFailure: (error: Error) => void): Promise<{ queueLength: number }> {
    const fail = (error: Error): void => {
      if (!this.closed) onFailure(error);
    };
    const connection = await connect(this.uri, this.connectionName, fail);
    this.connection = connection;
    if (this.closed) {
      // Closed while connecting (the shovel was stopped): nothing may stay open.
      await closeQuietly(connection);
      throw new Error('closed while connecting');
    }
    const properties = (connection as unknown as { connection?: { serverProperties?: Record<string, unknown> } }).connection?.serverProperties;
    const clusterName = properties?.['cluster_name'];
    this.peerClusterName = typeof clusterName === 'string' ? clusterName : Buffer.isBuffer(clusterName) ? clusterName.toString() : undefined;
    const target = this.options.target;
    let length = 0;
    if (target.kind === 'queue') {
      const existing = await queueLength(connection, target.queue);
      length = existing ?? 0;
      this.queue = target.queue;
      if (existing === undefined && target.declare) {
        const declaring = await connection.createChannel();
        declaring.on('error', () => undefined);
        await declaring.assertQueue(target.queue, { durable: true, ...(target.queueArgs === undefined ? {} : { arguments: target.queueArgs }) });
        await declaring.close();
      }
    }
    const channel = await connection.createChannel();
    this.channel = channel;
    watch(channel, 'source', this.uri, fail);
    if (target.kind === 'exchange') {
      await channel.checkExchange(target.exchange);
      const named = target.queueName !== undefined;
      const ok = await channel.assertQueue(target.queueName ?? '', named ? { durable: true, arguments: target.queueArgs ?? {} } : { exclusive: true, autoDelete: true });
      this.queue = ok.queue;
      for (const key of target.keys) await channel.bindQueue(ok.queue, target.exchange, key);
    }
    await channel.prefetch(this.options.noAck ? 0 : this.options.prefetch);
    this.onMessage = onMessage;
    this.onFailure = fail;
    if (this.options.startPaused !== true) await this.resume();
    return { queueLength: length };
  }

  private onFailure: ((error: Error) => void) | undefined;

  async resume(): Promise<void> {
    const channel = this.channel;
    if (channel === undefined || this.consumerTag !== undefined) return;
    this.consumerTag = '';
    const ok = await channel.consume(
      this.queue,
      (message) => {
        if (message === null) return this.onFailure?.(new Error(`source queue '${this.queue}' was deleted (consumer cancelled)`));
        const m = { exchange: message.fields.exchange, routingKey: message.fields.routingKey, properties: propertiesFromAmqplib(message.properties), body: message.content, redelivered: message.fields.redelivered };
        this.onMessage?.({ message: m, token: message });
      },
      { noAck: this.options.noAck },
    );
    this.consumerTag = ok.consumerTag;
  }

  async pause(): Promise<void> {
    const tag = this.consumerTag;
    if (tag === undefined || tag === '') return;
    this.consumerTag = undefined;
    await this.channel?.cancel(tag);
  }

  // A channel that closed meanwhile throws; its deliveries are back in the queue already.
  ack(delivery: SourceDelivery): void {
    try {
      this.channel?.ack(delivery.token as ConsumeMessage);
    } catch {
      /* closed */
    }
  }

  requeue(delivery: SourceDelivery): void {
    try {
      this.channel?.nack(delivery.token as ConsumeMessage, false, true);
    } catch {
      /* closed */
    }
  }

  async bind(key: string): Promise<void> {
    const target = this.options.target;
    if (target.kind === 'exchange') await this.channel?.bindQueue(this.queue, target.exchange, key);
  }

  async unbind(key: string): Promise<void> {
    const target = this.options.target;
    if (target.kind === 'exchange') await this.channel?.unbindQueue(this.queue, target.exchange, key);
  }

  async close(): Promise<void> {
    this.closed = true;
    await closeQuietly(this.connection);
  }
}

export class AmqpDestination implements ShovelDestination {
  private connection: ChannelModel | undefined;
  private channel: Channel | ConfirmChannel | undefined;
  private closed = false;

  constructor(
    private readonly uri: string,
    private readonly connectionName: string,
    private readonly target: DestTarget,
    private readonly confirm: boolean,
  ) {}

  async open(onFailure: (error: Error) => void): Promise<void> {
    const fail = (error: Error): void => {
      if (!this.closed) onFailure(error);
    };
    const connection = await connect(this.uri, this.connectionName, fail);
    this.connection = connection;
    if (this.closed) {
      // Closed while connecting (the shovel was stopped): nothing may stay open.
      await closeQuietly(connection);
      throw new Error('closed while connecting');
    }
    const target = this.target;
    if (target.kind === 'queue' && (await queueLength(connection, target.queue)) === undefined) {
      const declaring = await connection.createChannel();
      declaring.on('error', () => undefined);
      await declaring.assertQueue(target.queue, { durable: true, ...(target.queueArgs === undefined ? {} : { arguments: target.queueArgs }) });
      await declaring.close();
    }
    const channel = this.confirm ? await connection.createConfirmChannel() : await connection.createChannel();
    this.channel = channel;
    watch(channel, 'destination', this.uri, fail);
    // RabbitMQ: a destination exchange that does not exist is not declared; the shovel fails to start.
    if (target.kind === 'exchange' && target.exchange !== '') await channel.checkExchange(target.exchange);
  }

  publish(exchange: string, routingKey: string, properties: BasicProperties, body: Buffer, onSettled?: (ok: boolean) => void): void {
    const channel = this.channel;
    if (channel === undefined) return;
    const options = publishOptions(properties);
    try {
      if (onSettled === undefined) channel.publish(exchange, routingKey, body, options);
      else (channel as ConfirmChannel).publish(exchange, routingKey, body, options, (error) => onSettled(error === null || error === undefined));
    } catch {
      onSettled?.(false); // the channel closed: the failure handler restarts the shovel
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await closeQuietly(this.connection);
  }
}
