/** The Queue class lives in queue/; this module keeps the contract's import path (src/broker/queue.js). */
export { Queue, DISPATCH_BATCH, type QueueOptions } from './queue/queue.js';
