/**
 * Idempotent producers (KIP-98): producer ids from InitProducerId, and per partition the last
 * sequence numbers each producer wrote (producer-state.ts). A batch whose sequence range was already
 * appended is a duplicate (a retry after a lost answer): it is answered with the original base offset
 * and not appended again. A gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
 *
 * Across a broker restart, kill -9 included, this holds as in Kafka:
 * - producer ids are reserved in durable blocks before they are handed out (producer-ids.ts), so an id
 *   is never given to two producers;
 * - a partition's producers are rebuilt from a snapshot plus the batches stored after it
 *   (producer-recovery.ts) before the first batch of a producer without state in this run is checked,
 *   so a retry that straddles the restart is a duplicate, a gap is a gap and an old epoch is fenced.
 *
 * The Produce path does what it did: a producer with state is checked and remembered in memory; only a
 * producer's first batch to a partition in a run asks whether the partition was recovered.
 */
import { ErrorCode } from './protocol/error-codes.js';
import type { BatchHeader } from './protocol/record-batch.js';
import type { KafkaDoor } from './door.js';
import type { KafkaSession } from './session.js';
import type { Partition } from './topics.js';
import type { StreamLog } from '../store/store.js';
import { ProducerIds } from './producer-ids.js';
import { ProducerRecovery } from './producer-recovery.js';
import { lastSequenceOf, nextSequenceAfter, rememberBatch, type PartitionProducers, type ProducerState, type SentBatch } from './producer-state.js';

export class ProducerRegistry {
  /** By stream log name, then producer id. */
  private readonly partitions = new Map<string, PartitionProducers>();
  /** Epochs of the ids handed out in this run (a re-initialising producer gets the next one, KIP-360). */
  private readonly epochs = new Map<bigint, number>();
  private readonly ids: ProducerIds;
  private readonly recovery: ProducerRecovery;

  constructor(door: KafkaDoor) {
    const vhost = door.settings.vhost;
    const records = door.broker.records;
    this.ids = new ProducerIds({ records, vhost, whenDurable: (callback) => door.broker.whenDurable(callback), failed: () => door.broker.failure !== undefined });
    this.recovery = new ProducerRecovery(this.partitions, { records, vhost, logger: door.logger });
    door.onClose(() => this.recovery.close());
  }

  /**
   * A new producer id (epoch 0), or the same id with the next epoch when a producer of this run
   * re-initialises with its id and current epoch. An id from before the restart gets a new id, as
   * Kafka answers every InitProducerId without a transactional id.
   */
  async initProducer(existing: bigint | undefined, epoch: number | undefined): Promise<{ producerId: bigint; epoch: number }> {
    if (existing !== undefined && existing >= 0n && this.epochs.has(existing)) {
      const known = this.epochs.get(existing)!;
      if (epoch !== undefined && epoch !== known) return { producerId: -1n, epoch: -1 };
      const next = known + 1;
      this.epochs.set(existing, next);
      return { producerId: existing, epoch: next };
    }
    const producerId = await this.ids.take();
    this.epochs.set(producerId, 0);
    return { producerId, epoch: 0 };
  }

  state(log: string, producerId: bigint): ProducerState | undefined {
    return this.partitions.get(log)?.get(producerId);
  }

  /** Undefined once the log's producers are known in this run; else a promise that they are rebuilt. */
  whenRecovered(log: StreamLog): Promise<void> | undefined {
    return this.recovery.whenRecovered(log);
  }

  remember(log: string, producerId: bigint, epoch: number, batch: SentBatch): void {
    let producers = this.partitions.get(log);
    if (producers === undefined) this.partitions.set(log, (producers = new Map()));
    rememberBatch(producers, producerId, epoch, batch);
  }

  /** A deleted topic's partitions forget their producers (their snapshots too). */
  forget(log: string): void {
    this.partitions.delete(log);
    this.recovery.forget(log);
  }
}

export function producerRegistry(session: KafkaSession): ProducerRegistry {
  return session.door.part('producers', () => new ProducerRegistry(session.door));
}

export interface SequenceCheck {
  /** The batches were appended before: answer with this base offset. */
  readonly duplicateOf?: number;
  readonly error?: number;
  readonly message?: string;
  /** The partition's producers are being rebuilt after a restart: check again once this resolves. */
  readonly recovering?: Promise<void>;
}

/** Checks a partition's batches of one request against what their producer wrote before. */
export function checkSequence(session: KafkaSession, partition: Partition, headers: readonly BatchHeader[]): SequenceCheck {
  const first = headers[0];
  if (first === undefined || first.producerId < 0n) return {};
  const registry = producerRegistry(session);
  const state = registry.state(partition.log.name, first.producerId);
  if (state === undefined) {
    const recovering = registry.whenRecovered(partition.log);
    return recovering === undefined ? {} : { recovering };
  }
  if (first.producerEpoch < state.epoch) return { error: ErrorCode.INVALID_PRODUCER_EPOCH, message: `producer epoch ${first.producerEpoch} is older than ${state.epoch}` };
  if (first.producerEpoch > state.epoch) return {}; // a new epoch starts its sequences afresh
  const expected = nextSequenceAfter(state.lastSequence);
  if (first.baseSequence === expected) return {}; // the next batch: the common case, decided first
  const last = headers[headers.length - 1]!;
  const duplicateOf = appendedAt(state, first.baseSequence, lastSequenceOf(last.baseSequence, last.lastOffsetDelta));
  if (duplicateOf !== undefined) return { duplicateOf };
  return { error: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `expected sequence ${expected}, got ${first.baseSequence}` };
}

/**
 * The base offset the sequence range [first, last] was appended at, if it is among the remembered
 * batches: one of them, or several in a row (a request of several batches is remembered as one range
 * when it is appended, and as its stored batches when rebuilt from the log).
 */
function appendedAt(state: ProducerState, first: number, last: number): number | undefined {
  const start = state.recent.findIndex((b) => b.firstSequence === first);
  if (start < 0) return undefined;
  for (let i = start; i < state.recent.length; i++) if (state.recent[i]!.lastSequence === last) return state.recent[start]!.baseOffset;
  return undefined;
}

export function recordSequence(session: KafkaSession, partition: Partition, headers: readonly BatchHeader[], baseOffset: number): void {
  const first = headers[0];
  if (first === undefined || first.producerId < 0n) return;
  const last = headers[headers.length - 1]!;
  producerRegistry(session).remember(partition.log.name, first.producerId, first.producerEpoch, {
    firstSequence: first.baseSequence,
    lastSequence: lastSequenceOf(last.baseSequence, last.lastOffsetDelta),
    baseOffset,
  });
}
