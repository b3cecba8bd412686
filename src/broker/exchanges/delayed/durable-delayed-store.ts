/**
 * DelayedMessageStore on the broker's message store: each durable x-delayed-message exchange keeps its
 * pending persistent messages in a message stream of its own, named `JSON ["x-delayed-message", vhost,
 * exchange]` (a queue's stream is a two-element `[vhost, queue]`, so the names never meet). A pending
 * message is one message in that stream, written in the publish (so the publisher's confirm covers it,
 * through the same group commit as queue enqueues) and removed once released.
 *
 * Record header (the store's opaque header), version 1:
 *   u8 version (1) | f64 LE due time (ms since the epoch) | f64 LE pending id | message header
 * where the message header is broker/persistence/message-header.ts's encoding (exchange, routing key,
 * publish time, properties); the body is the message body.
 */
import type { Logger } from 'pino';
import { StoreFormatError } from '../../../store/errors.js';
import type { MessageHandle, MessageStream, RecoveredStream } from '../../../store/store.js';
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

/** One exchange's stream and the handle of each pending message by pending id. */
interface ExchangeStream {
  readonly stream: MessageStream;
  readonly handles: Map<number, MessageHandle>;
}

export class DurableDelayedStore implements DelayedMessageStore {
  private readonly streams = new WeakMap<Exchange, ExchangeStream>();
  /** Between beginRecovery and finishRecovery: recovered delayed streams not yet claimed, by name. */
  private unclaimed: Map<string, RecoveredStream> | undefined;
  private readonly recoveries: Promise<unknown>[] = [];

  /** `access` is undefined while nothing is persisted (a MemoryStore, or the broker not running). */
  constructor(
    private readonly access: () => DurableStoreAccess | undefined,
    private readonly logger: Logger,
  ) {}

  /** The store was opened: the delayed streams it found wait for their exchanges to be re-created. */
  beginRecovery(streams: readonly RecoveredStream[]): void {
    this.unclaimed = new Map();
    for (const recovered of streams) {
      if (isDelayedStreamName(recovered.stream.name)) this.unclaimed.set(recovered.stream.name, recovered);
    }
  }

  /**
   * Definitions are restored: waits until every re-created exchange has read its pending messages, then
   * drops the streams of exchanges that did not come back. Returns how many were dropped.
   */
  async finishRecovery(): Promise<number> {
    await Promise.all(this.recoveries.splice(0));
    const left = this.unclaimed;
    this.unclaimed = undefined;
    if (this.access() === undefined || left === undefined) return 0;
    for (const recovered of left.values()) recovered.stream.drop();
    return left.size;
  }

  add(exchange: Exchange, pending: PendingDelayedMessage): void {
    const access = this.access();
    if (access === undefined) return;
    const held = this.streamOf(exchange, access);
    const header = encodeRecordHeader(pending, access.headers.encode(pending.message));
    held.handles.set(pending.id, held.stream.append(header, pending.message.body));
  }

  remove(exchange: Exchange, id: number): void {
    const held = this.streams.get(exchange);
    const handle = held?.handles.get(id);
    if (held === undefined || handle === undefined || this.access() === undefined) return;
    held.handles.delete(id);
    held.stream.remove(handle);
  }

  dropExchange(exchange: Exchange): void {
    const held = this.streams.get(exchange);
    this.streams.delete(exchange);
    if (held === undefined || this.access() === undefined) return;
    held.stream.drop();
  }

  /** The pending messages of a re-created durable exchange, read now (they wait in memory anyway). */
  recover(exchange: Exchange): Promise<PendingDelayedMessage[]> {
    const recovery = this.readPending(exchange);
    if (this.unclaimed !== undefined) this.recoveries.push(recovery);
    return recovery;
  }

  private async readPending(exchange: Exchange): Promise<PendingDelayedMessage[]> {
    const access = this.access();
    const name = delayedStreamName(exchange.vhost.name, exchange.name);
    const recovered = this.unclaimed?.get(name);
    if (access === undefined || recovered === undefined) return [];
    this.unclaimed!.delete(name);
    const held = this.streamOf(exchange, access);
    const handles = Array.from(recovered.handles);
    const all = await held.stream.read(handles).catch(() => undefined);
    const pending: PendingDelayedMessage[] = [];
    for (let i = 0; i < handles.length; i++) {
      const handle = handles[i]!;
      try {
        // One unreadable message must not cost the exchange: then each is read on its own.
        const stored = all?.[i] ?? (await held.stream.read([handle]))[0]!;
        const record = decodeRecordHeader(stored.header);
        const message = access.headers.decode(record.messageHeader, stored.body);
        held.handles.set(record.id, handle);
        pending.push({ id: record.id, dueAt: record.dueAt, message });
      } catch (error) {
        this.logger.warn({ err: error, exchange: exchange.name, vhost: exchange.vhost.name }, 'stored delayed message dropped: unreadable');
        held.stream.remove(handle);
      }
    }
    return pending;
  }

  private streamOf(exchange: Exchange, access: DurableStoreAccess): ExchangeStream {
    let held = this.streams.get(exchange);
    if (held === undefined) {
      held = { stream: access.store.stream(delayedStreamName(exchange.vhost.name, exchange.name)), handles: new Map() };
      this.streams.set(exchange, held);
    }
    return held;
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
