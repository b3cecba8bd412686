/**
 * What a partition knows of each idempotent producer that wrote to it (KIP-98): its epoch, its last
 * sequence number and its last five batches' sequence ranges with the offsets they were appended at.
 * Built as batches are appended (producers.ts) and rebuilt after a restart (producer-recovery.ts).
 */

/** Kafka keeps the last five batches per producer and partition (max.in.flight.requests.per.connection <= 5). */
export const REMEMBERED_BATCHES = 5;
const INT32_MAX = 2147483647;

export interface SentBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
}

export interface ProducerState {
  epoch: number;
  lastSequence: number;
  readonly recent: SentBatch[];
}

/** One partition's producers by producer id. */
export type PartitionProducers = Map<bigint, ProducerState>;

/** The sequence number of a batch's last record (sequences wrap at INT32_MAX, KIP-98). */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  return (baseSequence + lastOffsetDelta) % (INT32_MAX + 1);
}

export function nextSequenceAfter(sequence: number): number {
  return sequence === INT32_MAX ? 0 : sequence + 1;
}

/** Notes a batch the producer appended; a new epoch starts the producer's state afresh. */
export function rememberBatch(producers: PartitionProducers, producerId: bigint, epoch: number, batch: SentBatch): void {
  let state = producers.get(producerId);
  if (state === undefined || state.epoch !== epoch) producers.set(producerId, (state = { epoch, lastSequence: -1, recent: [] }));
  state.lastSequence = batch.lastSequence;
  state.recent.push(batch);
  if (state.recent.length > REMEMBERED_BATCHES) state.recent.shift();
}
