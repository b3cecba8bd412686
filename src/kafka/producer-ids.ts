/**
 * Producer ids for InitProducerId that never repeat, across restarts and kill -9 included. Kafka hands
 * out ids from blocks reserved in its metadata log; Warren reserves blocks the same way in a record
 * table of the door's vhost (broker/records.ts, the store's definitions journal): the block's end is
 * written and made durable *before* any id of the block is handed out, so a crash can waste the rest
 * of a block but never hand an id out twice. One durable write per BLOCK ids, none per id.
 *
 * Without a stored block (a fresh data dir, or one written before ids were reserved) the first block
 * starts at Date.now(), which is above every id of the older scheme (Date.now() at start, plus one per
 * id) unless that scheme handed out more ids than milliseconds have passed since.
 */
import type { RecordTables } from '../broker/records.js';

export const PRODUCER_IDS_TABLE = 'kafka.producer-ids';
const NEXT_KEY = 'next';
/** Ids reserved per durable write (Kafka reserves 1000 per block too). */
export const PRODUCER_ID_BLOCK = 1000n;

export interface ProducerIdStore {
  readonly records: RecordTables;
  readonly vhost: string;
  /** Runs `callback` once what was written to the store so far is durable (never after a store failure). */
  whenDurable(callback: () => void): void;
  /** The store failed: nothing becomes durable any more. */
  failed(): boolean;
}

/** No block can be reserved: the store failed. */
export class ProducerIdsUnavailable extends Error {}

export class ProducerIds {
  private next = 0n;
  private end = 0n;
  private reserving: Promise<void> | undefined;

  constructor(private readonly store: ProducerIdStore) {}

  /** A producer id not handed out before, by this run or an earlier one. */
  async take(): Promise<bigint> {
    while (this.next >= this.end) {
      if (this.store.failed()) throw new ProducerIdsUnavailable('the store failed: no producer ids can be reserved');
      await this.reserve();
    }
    return this.next++;
  }

  /** The first id no reserved block holds (what the table says; Date.now() without one). */
  private reservedUpTo(): bigint {
    const stored = this.store.records.get(this.store.vhost, PRODUCER_IDS_TABLE, NEXT_KEY)?.value;
    if (typeof stored === 'string' && /^\d+$/.test(stored)) return BigInt(stored);
    return BigInt(Date.now());
  }

  private reserve(): Promise<void> {
    this.reserving ??= new Promise<void>((resolve) => {
      const stored = this.reservedUpTo();
      const start = stored > this.end ? stored : this.end;
      const end = start + PRODUCER_ID_BLOCK;
      this.store.records.put(this.store.vhost, PRODUCER_IDS_TABLE, NEXT_KEY, 'block', end.toString());
      this.store.whenDurable(() => {
        this.next = start;
        this.end = end;
        this.reserving = undefined;
        resolve();
      });
    });
    return this.reserving;
  }
}
