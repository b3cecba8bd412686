/**
 * DelayedMessageStore on the broker's Store: each durable x-delayed-message exchange keeps its pending
 * persistent messages in a message stream of its own, named `JSON ["x-delayed-message", vhost, exchange]`
 * (a queue's stream is a two-element `[vhost, queue]`, so the names never meet). A pending message is
 * one Message record in the shared log, written in the publish (so the publisher's confirm covers it,
 * through the same group commit as queue enqueues) and removed once released.
 *
 * Record header (the store's opaque header), version 1:
 *   u8 version (1) | f64 LE due time (ms since the epoch) | f64 LE pending id | message header
 * where the message header is broker/persistence/message-header.ts's encoding (exchange, routing key,
 * publish time, properties); the body is the message body.
 */
import type { Logger } from 'pino';
import { StoreFormatError } from '../../../store/errors.js';
import type { MessageHandle, RecoveredQueue } from '../../../store/store.js';
import type { DurableStoreAccess } from '../../queue/durable-messages.js';
import type { Exchange } from '../exchange.js';
import type { DelayedMessageStore, PendingDelayedMessage } from './delayed-store.js';

const STREAM_TAG = 'x-delayed-message';
const RECORD_VERSION = 1;
const PREFIX_BYTES = 1 + 8 + 8;

export function delayedStreamName(vhost: string, exchange: string): string {
  return JSON.stringify([STREAM_TAG, vhost, exchange]);
}

export function isDelayedStreamName(name: string): boolean {
  return name.startsWith(`["${STREAM_TAG}",`);
}

/** One exchange's stream: its store id and the handle of each pending message by pending id. */
interface ExchangeStream {
  readonly id: number;
  readonly handles: Map<number, MessageHandle>;
}

export class DurableDelayedStore implements DelayedMessageStore {
  private readonly streams = new WeakMap<Exchange, ExchangeStream>();
  /** Between beginRecovery and finishRecovery: recovered delayed streams not yet claimed, by name. */
  private unclaimed: Map<string, RecoveredQueue> | undefined;

  /** `access` is undefined while nothing is persisted (a MemoryStore, or the broker not running). */
  constructor(
    private readonly access: () => DurableStoreAccess | undefined,
    private readonly logger: Logger,
  ) {}

  /** The store was opened: the delayed streams it found wait for their exchanges to be re-created. */
  beginRecovery(streams: readonly RecoveredQueue[]): void {
    this.unclaimed = new Map();
    for (const stream of streams) if (isDelayedStreamName(stream.name)) this.unclaimed.set(stream.name, stream);
  }

  /** Definitions are restored: streams of exchanges that did not come back are dropped. Returns how many. */
  finishRecovery(): number {
    const access = this.access();
    const left = this.unclaimed;
    this.unclaimed = undefined;
    if (access === undefined || left === undefined) return 0;
    for (const stream of left.values()) access.store.dropQueue(stream.id, stream.handles);
    return left.size;
  }

  add(exchange: Exchange, pending: PendingDelayedMessage): void {
    const access = this.access();
    if (access === undefined) return;
    const stream = this.streamOf(exchange, access);
    const header = encodeRecordHeader(pending, access.headers.encode(pending.message));
    stream.handles.set(pending.id, access.store.append(stream.id, header, pending.message.body));
  }

  remove(exchange: Exchange, id: number): void {
    const stream = this.streams.get(exchange);
    const handle = stream?.handles.get(id);
    const access = this.access();
    if (stream === undefined || handle === undefined || access === undefined) return;
    stream.handles.delete(id);
    access.store.remove(stream.id, handle);
  }

  dropExchange(exchange: Exchange): void {
    const stream = this.streams.get(exchange);
    const access = this.access();
    this.streams.delete(exchange);
    if (stream === undefined || access === undefined) return;
    access.store.dropQueue(stream.id, [...stream.handles.values()]);
  }

  /** The pending messages of a re-created durable exchange, read now (they wait in memory anyway). */
  recover(exchange: Exchange): PendingDelayedMessage[] {
    const access = this.access();
    const name = delayedStreamName(exchange.vhost.name, exchange.name);
    const recovered = this.unclaimed?.get(name);
    if (access === undefined || recovered === undefined) return [];
    this.unclaimed!.delete(name);
    const stream = this.streamOf(exchange, access);
    const pending: PendingDelayedMessage[] = [];
    for (const handle of recovered.handles) {
      try {
        const stored = access.store.read(handle);
        const record = decodeRecordHeader(stored.header);
        const message = access.headers.decode(record.messageHeader, stored.body);
        stream.handles.set(record.id, handle);
        pending.push({ id: record.id, dueAt: record.dueAt, message });
      } catch (error) {
        // One unreadable message must not cost the exchange (and everything else it holds).
        this.logger.warn({ err: error, exchange: exchange.name, vhost: exchange.vhost.name }, 'stored delayed message dropped: unreadable');
        access.store.remove(stream.id, handle);
      }
    }
    return pending;
  }

  private streamOf(exchange: Exchange, access: DurableStoreAccess): ExchangeStream {
    let stream = this.streams.get(exchange);
    if (stream === undefined) {
      stream = { id: access.store.queueId(delayedStreamName(exchange.vhost.name, exchange.name)), handles: new Map() };
      this.streams.set(exchange, stream);
    }
    return stream;
  }
}

function encodeRecordHeader(pending: PendingDelayedMessage, messageHeader: Buffer): Buffer {
  const header = Buffer.allocUnsafe(PREFIX_BYTES + messageHeader.length);
  header.writeUInt8(RECORD_VERSION, 0);
  header.writeDoubleLE(pending.dueAt, 1);
  header.writeDoubleLE(pending.id, 9);
  messageHeader.copy(header, PREFIX_BYTES);
  return header;
}

function decodeRecordHeader(header: Buffer): { dueAt: number; id: number; messageHeader: Buffer } {
  const version = header.readUInt8(0);
  if (version !== RECORD_VERSION) throw new StoreFormatError(`stored delayed message header version ${version} is not supported`);
  return { dueAt: header.readDoubleLE(1), id: header.readDoubleLE(9), messageHeader: header.subarray(PREFIX_BYTES) };
}
