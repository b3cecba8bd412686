/**
 * Idempotent producers (KIP-98): producer ids from InitProducerId, and per partition the last
 * sequence numbers each producer wrote. A batch whose sequence range was already appended is a
 * duplicate (a retry after a lost answer): it is answered with the original base offset and not
 * appended again. A gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
 *
 * Kept in memory, per broker run: after a restart a producer's next batch starts its state afresh
 * (any sequence is taken), so a retry that straddles a broker restart may be appended twice. Kafka
 * keeps this state in its log snapshots; Warren's stream log has no place for it yet.
 */
import { ErrorCode } from './protocol/error-codes.js';
import type { BatchHeader } from './protocol/record-batch.js';
import type { KafkaSession } from './session.js';
import type { Partition } from './topics.js';

/** Kafka keeps the last five batches per producer and partition (max.in.flight.requests.per.connection <= 5). */
const REMEMBERED_BATCHES = 5;
const INT32_MAX = 2147483647;

interface SentBatch {
  readonly firstSequence: number;
  readonly lastSequence: number;
  readonly baseOffset: number;
}

interface ProducerState {
  epoch: number;
  lastSequence: number;
  readonly recent: SentBatch[];
}

export class ProducerRegistry {
  private nextId = Date.now();
  /** By stream log name, then producer id. */
  private readonly partitions = new Map<string, Map<bigint, ProducerState>>();
  private readonly epochs = new Map<bigint, number>();

  /** A new producer id (epoch 0), or the same id with the next epoch when the producer re-initialises. */
  initProducer(existing: bigint | undefined, epoch: number | undefined): { producerId: bigint; epoch: number } {
    if (existing !== undefined && existing >= 0n && this.epochs.has(existing)) {
      const known = this.epochs.get(existing)!;
      if (epoch !== undefined && epoch !== known) return { producerId: -1n, epoch: -1 };
      const next = known + 1;
      this.epochs.set(existing, next);
      return { producerId: existing, epoch: next };
    }
    const producerId = BigInt(this.nextId++);
    this.epochs.set(producerId, 0);
    return { producerId, epoch: 0 };
  }

  state(log: string, producerId: bigint): ProducerState | undefined {
    return this.partitions.get(log)?.get(producerId);
  }

  remember(log: string, producerId: bigint, epoch: number, batch: SentBatch): void {
    let producers = this.partitions.get(log);
    if (producers === undefined) this.partitions.set(log, (producers = new Map()));
    let state = producers.get(producerId);
    if (state === undefined || state.epoch !== epoch) producers.set(producerId, (state = { epoch, lastSequence: -1, recent: [] }));
    state.lastSequence = batch.lastSequence;
    state.recent.push(batch);
    if (state.recent.length > REMEMBERED_BATCHES) state.recent.shift();
  }

  /** A deleted topic's partitions forget their producers. */
  forget(log: string): void {
    this.partitions.delete(log);
  }
}

export function producerRegistry(session: KafkaSession): ProducerRegistry {
  return session.door.part('producers', () => new ProducerRegistry());
}

export interface SequenceCheck {
  /** The batches were appended before: answer with this base offset. */
  readonly duplicateOf?: number;
  readonly error?: number;
  readonly message?: string;
}

function lastSequenceOf(header: BatchHeader): number {
  return (header.baseSequence + header.lastOffsetDelta) % (INT32_MAX + 1);
}

/** Checks a partition's batches of one request against what their producer wrote before. */
export function checkSequence(session: KafkaSession, partition: Partition, headers: readonly BatchHeader[]): SequenceCheck {
  const first = headers[0];
  if (first === undefined || first.producerId < 0n) return {};
  const state = producerRegistry(session).state(partition.log.name, first.producerId);
  if (state === undefined) return {};
  if (first.producerEpoch < state.epoch) return { error: ErrorCode.INVALID_PRODUCER_EPOCH, message: `producer epoch ${first.producerEpoch} is older than ${state.epoch}` };
  if (first.producerEpoch > state.epoch) return {}; // a new epoch starts its sequences afresh
  const last = headers[headers.length - 1]!;
  const duplicate = state.recent.find((b) => b.firstSequence === first.baseSequence && b.lastSequence === lastSequenceOf(last));
  if (duplicate !== undefined) return { duplicateOf: duplicate.baseOffset };
  const expected = state.lastSequence === INT32_MAX ? 0 : state.lastSequence + 1;
  if (first.baseSequence !== expected) {
    return { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `expected sequence ${expected}, got ${first.baseSequence}` };
  }
  return {};
}

export function recordSequence(session: KafkaSession, partition: Partition, headers: readonly BatchHeader[], baseOffset: number): void {
  const first = headers[0];
  if (first === undefined || first.producerId < 0n) return;
  const last = headers[headers.length - 1]!;
  producerRegistry(session).remember(partition.log.name, first.producerId, first.producerEpoch, {
    firstSequence: first.baseSequence,
    lastSequence: lastSequenceOf(last),
    baseOffset,
  });
}
