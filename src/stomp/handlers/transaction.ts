import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import { missingHeader, StompRequestError } from '../errors.js';
import type { HandlerTable } from './types.js';

function txId(frame: StompFrame): string {
  const id = frame.headers.get('transaction');
  if (id === undefined) throw missingHeader(frame.command, 'transaction');
  return id;
}

function openWork(c: StompConnection, frame: StompFrame): { id: string; work: Array<() => void> } {
  const id = txId(frame);
  const work = c.transactions.get(id);
  if (work === undefined) throw new StompRequestError('Bad transaction', `Invalid transaction identifier: ${id}`);
  return { id, work };
}

/** BEGIN/COMMIT/ABORT (1.2 "BEGIN"): SENDs and ACKs naming the transaction wait for COMMIT. */
function begin(c: StompConnection, frame: StompFrame): void {
  const id = txId(frame);
  if (c.transactions.has(id)) throw new StompRequestError('Bad transaction', `Transaction ${id} already started`);
  c.transactions.set(id, []);
  c.receipt(frame);
}

/** Applies the work in order; COMMIT's receipt waits until the committed messages are durable. */
function commit(c: StompConnection, frame: StompFrame): void {
  const { id, work } = openWork(c, frame);
  c.transactions.delete(id);
  for (const step of work) step();
  const receipt = frame.headers.get('receipt');
  if (receipt !== undefined) c.receipts.after(receipt, (done) => c.barriers.waitAll(done));
}

function abort(c: StompConnection, frame: StompFrame): void {
  const { id } = openWork(c, frame);
  c.transactions.delete(id);
  c.receipt(frame);
}

export const transactionHandlers: HandlerTable = { BEGIN: begin, COMMIT: commit, ABORT: abort };
