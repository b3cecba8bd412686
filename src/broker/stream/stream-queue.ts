import type { StreamLog, StreamLogStore, StreamRecord } from '../../store/store.js';
import { notImplemented, preconditionFailed } from '../errors.js';
import type { Consumer, QueueEntry } from '../front-door.js';
import { Message, TypedValue, fieldString, type FieldValue } from '../message.js';
import type { MessageHeaderCodec } from '../persistence/message-header.js';
import type { QueueView, StreamFigures } from '../queue-view.js';
import type { QueueCounters } from '../queue/counters.js';
import { startOffset } from './offset-spec.js';
import type { StreamSettings } from './stream-arguments.js';
import type { ReadPacer } from './read-pacer.js';
import { StreamReader, expandBatches, type RecordFilter } from './stream-reader.js';

/** Where stream queues keep their logs: the broker's store, with the header codec of stored messages. */
export interface StreamLogAccess {
  readonly store: StreamLogStore;
  readonly headers: MessageHeaderCodec;
  /** A batch record (StreamRecord.batchCount) as the records it holds (header in `headers`' encoding). */
  readonly decodeBatch: StreamBatchDecoder;
  /** Gives the loop to writers first while a reader replays old data (the broker's one pacer). */
  readonly pacer: ReadPacer;
}

/** Expands one batch record into its records: offsets from record.offset on, header as the store's codec writes it. */
export type StreamBatchDecoder = (record: StreamRecord, queueName: string) => StreamRecord[];

/** x-max-age is applied at segment roll-over and at least this often (RabbitMQ evaluates it on roll-over). */
const RETENTION_INTERVAL_MS = 60_000;

/**
 * A stream queue (x-queue-type: stream): every routed message is appended to the queue's stream log and
 * stays there, whatever consumers do; each consumer reads from its own offset (x-stream-offset) at its
 * own pace, within its prefetch; acks only give credit back. Protocol-neutral: a door sees it through
 * QueueView, and a Kafka door reaches the same log by name. RabbitMQ's rules and texts (3.10) for what
 * a stream refuses: basic.get, automatic acks, nack/reject, purge.
 */
export class StreamQueue {
  readonly log: StreamLog;
  private readonly readers = new Map<Consumer, StreamReader>();
  /** Single active consumer groups by consumer name, the active one first. */
  private readonly groups = new Map<string, Consumer[]>();
  /** Deliveries to named consumers, so that their acks store the consumer's offset. */
  private readonly namedEntries = new WeakMap<QueueEntry, string>();
  private readonly consumerList: Consumer[] = [];
  private unacked = 0;
  private readonly unsubscribe: () => void;
  private readonly retentionTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: QueueView & { readonly resource: string },
    private readonly access: StreamLogAccess,
    logName: string,
    private readonly settings: StreamSettings,
    private readonly counters: QueueCounters,
  ) {
    this.log = access.store.streamLog(logName);
    this.log.configure({ maxBytes: settings.maxBytes, maxAgeMs: settings.maxAgeMs, segmentBytes: settings.segmentBytes });
    this.unsubscribe = this.log.onReadable(() => this.resume());
    if (settings.maxAgeMs !== undefined) {
      this.retentionTimer = setInterval(() => this.log.applyRetention(), Math.min(RETENTION_INTERVAL_MS, settings.maxAgeMs));
      this.retentionTimer.unref();
    }
  }

  get consumers(): readonly Consumer[] {
    return this.consumerList;
  }

  /** Records kept (what RabbitMQ's management shows as a stream's messages). */
  messageCount(): number {
    return this.log.nextOffset - this.log.firstOffset;
  }

  bytes(): number {
    return this.log.stats().bytes;
  }

  unackedCount(): number {
    return this.unacked;
  }

  figures(): StreamFigures {
    const stats = this.log.stats();
    const consumers = this.consumerList.map((consumer) => {
      const reader = this.readers.get(consumer);
      const stored = this.log.storedOffset(consumerName(consumer) ?? '');
      const offset = reader?.offset ?? (stored === undefined ? stats.firstOffset : stored + 1);
      return { tag: consumer.tag, offset, lag: Math.max(0, stats.nextOffset - offset), active: reader !== undefined };
    });
    // A stored offset is the last record processed (RabbitMQ's meaning): a reader resumes after it.
    const stored = [...this.log.storedOffsets()].map(([reference, offset]) => ({ reference, offset, lag: Math.max(0, stats.nextOffset - offset - 1) }));
    return { segments: stats.segments, bytes: stats.bytes, firstOffset: stats.firstOffset, nextOffset: stats.nextOffset, consumers, stored };
  }

  // ---- messages in ------------------------------------------------------------------------------

  /** Appends; the publisher's confirm waits for the store's group commit, which writes and syncs it. */
  enqueue(message: Message): boolean {
    const filter = fieldString(message.properties.headers?.['x-stream-filter-value']);
    this.log.append(this.access.headers.encode(message), message.body, filter);
    this.counters.published++;
    return true;
  }

  // ---- consumers --------------------------------------------------------------------------------

  /**
   * rabbit_stream_queue:consume's checks, in its order: prefetch first, then manual acks; then the start
   * offset is checked (so a bad one fails the consume even for a consumer that waits its turn).
   */
  addConsumer(consumer: Consumer): void {
    const prefetch = consumer.describe?.().prefetchCount ?? 0;
    if (prefetch === 0) throw preconditionFailed(`consumer prefetch count is not set for '${this.queue.resource}'`);
    if (consumer.noAck) throw notImplemented(`automatic acknowledgement not supported by stream queues ${this.queue.resource}`);
    startOffset(consumer.arguments['x-stream-offset'], this.log, this.queue.resource);
    this.consumerList.push(consumer);
    if (this.settings.singleActiveConsumer) {
      const group = consumerName(consumer) ?? '';
      const members = this.groups.get(group) ?? [];
      members.push(consumer);
      this.groups.set(group, members);
      if (members.length > 1) return; // waits until the ones before it are gone
    }
    this.activate(consumer, false);
  }

  removeConsumer(consumer: Consumer): void {
    const at = this.consumerList.indexOf(consumer);
    if (at < 0) return;
    this.consumerList.splice(at, 1);
    const reader = this.readers.get(consumer);
    reader?.stop();
    this.readers.delete(consumer);
    if (!this.settings.singleActiveConsumer) return;
    const group = consumerName(consumer) ?? '';
    const members = this.groups.get(group) ?? [];
    members.splice(members.indexOf(consumer), 1);
    if (members.length === 0) this.groups.delete(group);
    else if (reader !== undefined) this.activate(members[0]!, true);
  }

  /**
   * Starts a consumer's reader. A named consumer (x-stream-consumer-name) resumes after its stored offset
   * when it names no x-stream-offset, and always when it takes over as single active consumer.
   */
  private activate(consumer: Consumer, takingOver: boolean): void {
    const name = consumerName(consumer);
    const stored = name === undefined ? undefined : this.log.storedOffset(name);
    const requested = consumer.arguments['x-stream-offset'];
    const start =
      stored !== undefined && (requested === undefined || takingOver)
        ? Math.max(stored + 1, this.log.firstOffset)
        : startOffset(requested, this.log, this.queue.resource);
    const args = consumer.arguments;
    const reader: StreamReader = new StreamReader(
      this.log,
      (batch) => this.access.decodeBatch(batch, this.queue.name),
      consumer,
      this.queue,
      start,
      filterOf(args['x-stream-filter'], args['x-stream-match-unfiltered']),
      (record) => {
        const entry = this.entryOf(record);
        if (name !== undefined) this.namedEntries.set(entry, name);
        return entry;
      },
      () => {
        this.unacked++;
        this.counters.delivered++;
      },
      (error) => {
        this.queue.vhost.logger.error({ queue: this.queue.name, error: String(error) }, 'stream read failed: consumer cancelled');
        this.removeConsumer(consumer);
        consumer.cancelledByBroker(this.queue);
      },
      this.access.pacer,
    );
    this.readers.set(consumer, reader);
    reader.pump();
  }

  resume(): void {
    for (const reader of this.readers.values()) reader.pump();
  }

  // ---- settlement -------------------------------------------------------------------------------

  get(): never {
    throw notImplemented(`basic.get not supported by stream queues ${this.queue.resource}`);
  }

  /** An ack returns credit (the record stays in the log); a named consumer's ack stores its offset. */
  ack(entry: QueueEntry): void {
    if (this.unacked > 0) this.unacked--;
    this.counters.acked++;
    const name = this.namedEntries.get(entry);
    if (name === undefined) return;
    const stored = this.log.storedOffset(name);
    if (stored === undefined || entry.seq > stored) this.log.storeOffset(name, entry.seq);
  }

  reject(): never {
    throw notImplemented(`basic.nack and basic.reject not supported by stream queues ${this.queue.resource}`);
  }

  /** A closed channel gives its unacked deliveries back: for a stream they are simply done. */
  forget(count: number): void {
    this.unacked = Math.max(0, this.unacked - count);
  }

  purge(): never {
    throw notImplemented(`queue.purge not supported by stream queues ${this.queue.resource}`);
  }

  /** Reading without taking (management API): the newest records' offsets are kept, oldest first. */
  async browse(offset: number, count: number): Promise<QueueEntry[]> {
    const from = this.log.firstOffset + offset;
    const records = expandBatches(await this.log.read(from, 64 * 1024), from, (batch) => this.access.decodeBatch(batch, this.queue.name));
    return records.slice(0, count).map((record) => this.entryOf(record));
  }

  // ---- end --------------------------------------------------------------------------------------

  /** The queue is deleted: consumers are cancelled by the queue, the log goes with its files. */
  close(): Consumer[] {
    const consumers = [...this.consumerList];
    for (const consumer of consumers) this.removeConsumer(consumer);
    this.stopTimers();
    this.log.drop();
    return consumers;
  }

  stopTimers(): void {
    clearInterval(this.retentionTimer);
    this.unsubscribe();
  }

  private entryOf(record: StreamRecord): QueueEntry {
    const stored = this.access.headers.decode(record.header, record.body);
    const headers = { ...stored.properties.headers, 'x-stream-offset': new TypedValue('l', record.offset) };
    const message = new Message(stored.exchange, stored.routingKey, { ...stored.properties, headers }, record.body, undefined, stored.publishedAt);
    return { seq: record.offset, message, redelivered: false, deliveryCount: 0 };
  }
}

/** x-stream-consumer-name: the name offsets are stored under (Warren's; RabbitMQ's stream protocol has one). */
function consumerName(consumer: Consumer): string | undefined {
  const name = fieldString(consumer.arguments['x-stream-consumer-name']);
  return name === '' ? undefined : name;
}

/** x-stream-filter: one value or an array of them; x-stream-match-unfiltered: also records without a value. */
function filterOf(values: FieldValue | undefined, matchUnfiltered: FieldValue | undefined): RecordFilter | undefined {
  if (values === undefined) return undefined;
  const list = Array.isArray(values) ? values : [values];
  const strings = list.map((v) => fieldString(v)).filter((v): v is string => v !== undefined);
  return { values: new Set(strings), matchUnfiltered: matchUnfiltered === true };
}
