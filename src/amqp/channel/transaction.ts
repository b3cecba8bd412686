import type { Message } from '../../broker/message.js';
import { BarrierSet, type DurabilityBarrier } from '../../session/durability.js';
import type { Settlement, TakenDelivery } from './acks.js';

/** One operation held by an open transaction, applied in order on commit. */
export type TxOperation =
  | { kind: 'publish'; message: Message; mandatory: boolean }
  | { kind: 'settle'; how: Settlement; deliveries: TakenDelivery[] };

/**
 * tx.select mode: publishes and acks are buffered until tx.commit and discarded by tx.rollback
 * (the acked deliveries then become outstanding again, as in RabbitMQ).
 */
export class Transaction {
  operations: TxOperation[] = [];
  /** What tx.commit-ok waits for: the broker's group commit and whatever the committed publishes reached. */
  readonly barriers: BarrierSet;

  constructor(durability: DurabilityBarrier) {
    this.barriers = new BarrierSet(durability);
  }

  /** Deliveries the buffered settlements took out of the ledger. */
  takenDeliveries(): TakenDelivery[] {
    const all: TakenDelivery[] = [];
    for (const op of this.operations) if (op.kind === 'settle') all.push(...op.deliveries);
    return all;
  }

  /** Hands over the buffered operations and starts an empty batch (a channel stays transactional). */
  drain(): TxOperation[] {
    const ops = this.operations;
    this.operations = [];
    return ops;
  }
}
