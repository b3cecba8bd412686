import { ackHandlers } from './ack.js';
import { connectHandlers } from './connect.js';
import { disconnectHandlers } from './disconnect.js';
import { sendHandlers } from './send.js';
import { subscribeHandlers } from './subscribe.js';
import { transactionHandlers } from './transaction.js';
import type { HandlerTable } from './types.js';

/** Every client command (STOMP 1.2 "Client Frames") -> its handler. */
export const COMMAND_HANDLERS: HandlerTable = {
  ...connectHandlers,
  ...sendHandlers,
  ...subscribeHandlers,
  ...ackHandlers,
  ...transactionHandlers,
  ...disconnectHandlers,
};
