/**
 * A shovel's definition: RabbitMQ's dynamic shovel keys (docs: "Configuring Dynamic Shovels", AMQP 0-9-1
 * reference), validated from JSON. The 3.x-era names (`prefetch-count`, `delete-after`,
 * `add-forward-headers`, `publish-properties`, `add-timestamp-header`) are accepted as aliases, as
 * RabbitMQ still accepts them.
 */
import { preconditionFailed } from '../broker/errors.js';
import type { BasicProperties } from '../broker/message.js';

export type AckMode = 'on-confirm' | 'on-publish' | 'no-ack';

export type ShovelSourceSpec =
  | { readonly kind: 'queue'; readonly queue: string; readonly queueArgs: Record<string, unknown> | undefined }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly key: string };

/** Where messages go: a queue (through the default exchange), an exchange, or each message's own. */
export type ShovelDestSpec =
  | { readonly kind: 'queue'; readonly queue: string; readonly queueArgs: Record<string, unknown> | undefined }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly key: string | undefined }
  | { readonly kind: 'original' };

export interface ShovelSpec {
  readonly srcUris: readonly string[];
  readonly source: ShovelSourceSpec;
  readonly destUris: readonly string[];
  readonly dest: ShovelDestSpec;
  readonly ackMode: AckMode;
  readonly prefetch: number;
  /** 'never', 'queue-length' or a message count. */
  readonly deleteAfter: 'never' | 'queue-length' | number;
  readonly addForwardHeaders: boolean;
  readonly addTimestampHeader: boolean;
  readonly publishProperties: BasicProperties;
  /** Seconds between a failure and the next connection attempt; 0 = do not reconnect. */
  readonly reconnectDelay: number;
}

const KNOWN_KEYS = new Set([
  'src-uri', 'src-protocol', 'src-queue', 'src-queue-args', 'src-exchange', 'src-exchange-key', 'src-prefetch-count',
  'src-delete-after', 'dest-uri', 'dest-protocol', 'dest-queue', 'dest-queue-args', 'dest-exchange', 'dest-exchange-key',
  'dest-publish-properties', 'dest-add-forward-headers', 'dest-add-timestamp-header', 'reconnect-delay', 'ack-mode',
  // older names, still accepted by RabbitMQ
  'prefetch-count', 'delete-after', 'add-forward-headers', 'publish-properties', 'add-timestamp-header',
]);

/** dest-publish-properties uses the AMQP property names with underscores (RabbitMQ's JSON). */
const PUBLISH_PROPERTIES: Readonly<Record<string, [keyof BasicProperties, 'string' | 'number']>> = {
  content_type: ['contentType', 'string'],
  content_encoding: ['contentEncoding', 'string'],
  delivery_mode: ['deliveryMode', 'number'],
  priority: ['priority', 'number'],
  correlation_id: ['correlationId', 'string'],
  reply_to: ['replyTo', 'string'],
  expiration: ['expiration', 'string'],
  message_id: ['messageId', 'string'],
  timestamp: ['timestamp', 'number'],
  type: ['type', 'string'],
  user_id: ['userId', 'string'],
  app_id: ['appId', 'string'],
  cluster_id: ['clusterId', 'string'],
};

class Fields {
  constructor(
    private readonly name: string,
    private readonly value: Record<string, unknown>,
  ) {}

  fail(detail: string): never {
    throw preconditionFailed(`Validation failed for shovel '${this.name}': ${detail}`);
  }

  /** The first of the names that is set (new name first, then its old alias). */
  get(...names: string[]): unknown {
    for (const n of names) if (this.value[n] !== undefined) return this.value[n];
    return undefined;
  }

  string(key: string): string | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(`${JSON.stringify(v)} is not a valid value for '${key}' (a string)`);
    return v;
  }

  bool(...names: string[]): boolean {
    const v = this.get(...names);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(`${JSON.stringify(v)} is not a valid value for '${names[0]}' (true or false)`);
    return v;
  }

  object(key: string): Record<string, unknown> | undefined {
    const v = this.value[key];
    if (v === undefined) return undefined;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(`'${key}' must be an object`);
    return v as Record<string, unknown>;
  }

  uris(key: string): string[] {
    const v = this.value[key];
    if (v === undefined) this.fail(`'${key}' is required`);
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0) this.fail(`'${key}' must name at least one URI`);
    return list.map((uri) => {
      if (typeof uri !== 'string' || !/^amqps?:\/\//i.test(uri)) this.fail(`${JSON.stringify(uri)} in '${key}' is not an AMQP URI (amqp:// or amqps://)`);
      try {
        new URL(uri);
      } catch {
        this.fail(`${JSON.stringify(uri)} in '${key}' is not a valid URI`);
      }
      return uri;
    });
  }
}

function protocol(f: Fields, key: string): void {
  const v = f.string(key);
  if (v !== undefined && v !== 'amqp091') f.fail(`'${key}' ${JSON.stringify(v)} is not supported by Warren (only amqp091)`);
}

function sourceOf(f: Fields): ShovelSourceSpec {
  const queue = f.string('src-queue');
  const exchange = f.string('src-exchange');
  if ((queue === undefined) === (exchange === undefined)) f.fail("exactly one of 'src-queue' and 'src-exchange' must be set");
  if (queue !== undefined) return { kind: 'queue', queue, queueArgs: f.object('src-queue-args') };
  return { kind: 'exchange', exchange: exchange as string, key: f.string('src-exchange-key') ?? '' };
}

function destOf(f: Fields): ShovelDestSpec {
  const queue = f.string('dest-queue');
  const exchange = f.string('dest-exchange');
  if (queue !== undefined && exchange !== undefined) f.fail("'dest-queue' and 'dest-exchange' cannot both be set");
  if (queue !== undefined) return { kind: 'queue', queue, queueArgs: f.object('dest-queue-args') };
  if (exchange !== undefined) return { kind: 'exchange', exchange, key: f.string('dest-exchange-key') };
  return { kind: 'original' };
}

function publishProperties(f: Fields): BasicProperties {
  const raw = f.get('dest-publish-properties', 'publish-properties');
  if (raw === undefined) return {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) f.fail("'dest-publish-properties' must be an object");
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const known = PUBLISH_PROPERTIES[key];
    if (known === undefined) f.fail(`'${key}' is not a property dest-publish-properties can set (headers cannot be set this way)`);
    const [field, type] = known;
    if (typeof value !== type) f.fail(`${JSON.stringify(value)} is not a valid value for '${key}' (a ${type})`);
    properties[field] = value;
  }
  return properties as BasicProperties;
}

function deleteAfter(f: Fields): ShovelSpec['deleteAfter'] {
  const v = f.get('src-delete-after', 'delete-after');
  if (v === undefined || v === 'never') return 'never';
  if (v === 'queue-length') return 'queue-length';
  if (Number.isSafeInteger(v) && (v as number) >= 0) return v as number;
  return f.fail(`${JSON.stringify(v)} is not a valid value for 'src-delete-after' (never, queue-length or an integer >= 0)`);
}

function nonNegative(f: Fields, fallback: number, ...names: string[]): number {
  const v = f.get(...names);
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) f.fail(`${JSON.stringify(v)} is not a valid value for '${names[0]}' (a number >= 0)`);
  return v;
}

/** Validates a shovel's parameter value (throws 406-style precondition-failed with the reason). */
export function parseShovel(name: string, value: unknown): ShovelSpec {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw preconditionFailed(`Validation failed for shovel '${name}': the value must be an object`);
  }
  const f = new Fields(name, value as Record<string, unknown>);
  const unknown = Object.keys(value).filter((k) => !KNOWN_KEYS.has(k));
  if (unknown.length !== 0) f.fail(`${unknown.map((k) => `'${k}'`).join(', ')} are not recognised shovel settings`);
  protocol(f, 'src-protocol');
  protocol(f, 'dest-protocol');
  const ackMode = f.string('ack-mode') ?? 'on-confirm';
  if (ackMode !== 'on-confirm' && ackMode !== 'on-publish' && ackMode !== 'no-ack') {
    f.fail(`${JSON.stringify(ackMode)} is not a valid value for 'ack-mode' (on-confirm, on-publish or no-ack)`);
  }
  const prefetch = nonNegative(f, 1000, 'src-prefetch-count', 'prefetch-count');
  if (!Number.isSafeInteger(prefetch) || prefetch < 1 || prefetch > 65535) f.fail("'src-prefetch-count' must be an integer from 1 to 65535");
  return {
    srcUris: f.uris('src-uri'),
    source: sourceOf(f),
    destUris: f.uris('dest-uri'),
    dest: destOf(f),
    ackMode: ackMode as AckMode,
    prefetch,
    deleteAfter: deleteAfter(f),
    addForwardHeaders: f.bool('dest-add-forward-headers', 'add-forward-headers'),
    addTimestampHeader: f.bool('dest-add-timestamp-header', 'add-timestamp-header'),
    publishProperties: publishProperties(f),
    reconnectDelay: nonNegative(f, 1, 'reconnect-delay'),
  };
}
