import type { StompFrame } from '../codec/frame.js';
import type { StompConnection } from '../connection.js';
import type { HandlerTable } from './types.js';

/**
 * DISCONNECT (1.2 "Connection Lineup"): the receipt comes after every earlier receipt (so after the
 * earlier SENDs are durable), then the server closes the connection.
 */
function disconnect(c: StompConnection, frame: StompFrame): void {
  const receipt = frame.headers.get('receipt');
  if (receipt === undefined) {
    c.closeAfterFlush();
    return;
  }
  c.receipts.after(receipt, (done) => c.barriers.waitAll(done));
  c.closeWhenReceiptsDone();
}

export const disconnectHandlers: HandlerTable = { DISCONNECT: disconnect };
