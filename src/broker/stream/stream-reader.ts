import type { StreamLog, StreamRecord } from '../../store/store.js';
import type { Consumer, QueueEntry } from '../front-door.js';
import type { Message } from '../message.js';
import type { QueueView } from '../queue-view.js';
import type { ReadPacer } from './read-pacer.js';

/** Bytes one consumer reads ahead of its deliveries: one read, then nothing until they are handed out. */
const READ_AHEAD_BYTES = 1024 * 1024;

/** Records behind the log's tail from which a reader counts as replaying old data (paced: read-pacer.ts). */
const CATCHING_UP_RECORDS = 10_000;

/** Which records a consumer wants (x-stream-filter, x-stream-match-unfiltered); undefined = all. */
export interface RecordFilter {
  readonly values: ReadonlySet<string>;
  readonly matchUnfiltered: boolean;
}

export function passes(filter: RecordFilter | undefined, record: StreamRecord): boolean {
  if (filter === undefined) return true;
  if (record.filterValue === undefined) return filter.matchUnfiltered;
  return filter.values.has(record.filterValue);
}

/**
 * One consumer's position in a stream: it reads the log ahead of its deliveries in batches of about
 * READ_AHEAD_BYTES (asynchronous, one at a time), so a consumer far behind costs a bounded buffer and never
 * holds up appends, and hands records out while the consumer has credit (canTake: prefetch).
 */
export class StreamReader {
  private buffer: StreamRecord[] = [];
  private next = 0;
  private reading = false;
  private stopped = false;
  /** Waiting for a paced turn (ReadPacer.defer): pumps meanwhile leave the delivering to it. */
  private paced = false;
  /** Offset of the next record to read from the log. */
  private position: number;

  constructor(
    private readonly log: StreamLog,
    private readonly decodeBatch: (record: StreamRecord) => StreamRecord[],
    readonly consumer: Consumer,
    private readonly queue: QueueView,
    start: number,
    private readonly filter: RecordFilter | undefined,
    private readonly toEntry: (record: StreamRecord) => QueueEntry,
    private readonly delivered: (record: StreamRecord) => void,
    /** The log could not be read here (a damaged chunk): the consumer is ended, not left waiting forever. */
    private readonly failed: (error: unknown) => void,
    private readonly pacer: ReadPacer,
  ) {
    this.position = start;
  }

  /** Offset after the last record handed out (or skipped by the filter). */
  get offset(): number {
    const pending = this.buffer[this.next];
    return pending === undefined ? this.position : pending.offset;
  }

  /**
   * Delivers while the consumer can take more; reads ahead when its buffer is empty. A reader replaying old
   * data while others publish delivers only in the pacer's turns, a slice at a time (read-pacer.ts).
   */
  pump(): void {
    if (this.paced || this.stopped) return;
    if (this.pacer.writersActive && this.catchingUp()) this.deferToPacer();
    else this.deliver(Number.POSITIVE_INFINITY);
  }

  private deferToPacer(): void {
    this.paced = true;
    this.pacer.defer((budget) => {
      this.paced = false;
      // Budget used up with credit left: the next turn goes on (even if caught up meanwhile, since no
      // ack or append may come to pump it).
      if (!this.stopped && this.deliver(budget) === 0) this.deferToPacer();
    });
  }

  /** Hands out up to `budget` records; returns how much budget is left (0: more may be waiting). */
  private deliver(budget: number): number {
    let left = budget;
    while (!this.stopped && this.consumer.canTake()) {
      if (left <= 0) return 0;
      const record = this.buffer[this.next];
      if (record === undefined) {
        this.readAhead();
        return left;
      }
      this.next++;
      if (!passes(this.filter, record)) continue;
      left--;
      this.delivered(record);
      this.consumer.deliver(this.toEntry(record), this.queue);
    }
    return left;
  }

  private catchingUp(): boolean {
    return this.log.readableOffset - this.offset > CATCHING_UP_RECORDS;
  }

  stop(): void {
    this.stopped = true;
    this.buffer = [];
  }

  private readAhead(): void {
    if (this.reading || this.position >= this.log.readableOffset) return;
    this.reading = true;
    const from = this.position;
    this.log.read(from, READ_AHEAD_BYTES).then(
      (read) => {
        this.reading = false;
        if (this.stopped) return;
        const last = read[read.length - 1];
        let records: StreamRecord[];
        try {
          records = expandBatches(read, from, this.decodeBatch);
        } catch (error) {
          this.failed(error);
          return;
        }
        this.buffer = records;
        this.next = 0;
        // Retention may have moved the start past our position: reading resumes from what is kept.
        if (last !== undefined) this.position = last.offset + (last.batchCount ?? 1);
        this.pump();
      },
      (error: unknown) => {
        this.reading = false;
        // A log dropped meanwhile (queue deleted) has stopped this reader already.
        if (!this.stopped) this.failed(error);
      },
    );
  }
}

/** `records` with every batch record replaced by the records it holds (those from `from` on). */
export function expandBatches(records: StreamRecord[], from: number, decodeBatch: (record: StreamRecord) => StreamRecord[]): StreamRecord[] {
  if (!records.some((record) => record.batchCount !== undefined)) return records;
  const out: StreamRecord[] = [];
  for (const record of records) {
    if (record.batchCount === undefined) out.push(record);
    else for (const inner of decodeBatch(record)) if (inner.offset >= from) out.push(inner);
  }
  return out;
}

/** The message a stream consumer gets: as published, plus the x-stream-offset header (a long, as RabbitMQ). */
export type StreamMessageDecoder = (record: StreamRecord) => Message;
