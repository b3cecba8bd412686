import { preconditionFailed } from '../../broker/errors.js';
import { ConnectionError, ConnectionReplyCode } from '../errors.js';
import { MethodId } from '../spec/generated.js';
import type { Channel } from '../channel.js';
import { Transaction } from '../channel/transaction.js';
import type { HandlerTable } from './types.js';

function select(ch: Channel): void {
  if (ch.confirms !== undefined) throw preconditionFailed('cannot switch from confirm to tx mode');
  ch.tx ??= new Transaction(ch.host.broker);
  ch.send({ id: MethodId.TxSelectOk, args: {} });
}

function transactionOf(ch: Channel): Transaction {
  if (ch.tx === undefined) throw preconditionFailed('channel is not transactional');
  return ch.tx;
}

/** Applies the buffered publishes and acks in order; commit-ok once they are durable. */
function commit(ch: Channel): void {
  for (const op of transactionOf(ch).drain()) {
    if (op.kind === 'publish') ch.route(op.message, op.mandatory);
    else ch.acks.settleTaken(op.deliveries, op.how);
  }
  // Later frames wait, so that their replies cannot overtake commit-ok.
  ch.holdFrames();
  transactionOf(ch).barriers.waitAll((lost) => {
    if (ch.isClosed) return;
    // The spec's tx.commit has no negative answer: a commit that may not be durable closes the channel.
    if (lost) return ch.failHeld(new ConnectionError(ConnectionReplyCode.InternalError, 'tx.commit: queue owner did not take all messages'));
    ch.send({ id: MethodId.TxCommitOk, args: {} });
    ch.releaseHeldFrames();
  });
}

/** Discards buffered publishes; deliveries acked in the transaction are outstanding again. */
function rollback(ch: Channel): void {
  for (const op of transactionOf(ch).drain()) {
    if (op.kind === 'settle') ch.acks.restore(op.deliveries);
  }
  ch.send({ id: MethodId.TxRollbackOk, args: {} });
}

export const txHandlers: HandlerTable = {
  [MethodId.TxSelect]: select,
  [MethodId.TxCommit]: commit,
  [MethodId.TxRollback]: rollback,
};
