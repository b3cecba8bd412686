export { DELAY_HEADER, MAX_DELAY_MS, releasedMessage, requestedDelay } from './delay-header.js';
export { DelayedMessageRouter, type DelayedRouterOptions, type DelayedRouterStats } from './delayed-router.js';
export type { DelayedMessageStore, PendingDelayedMessage } from './delayed-store.js';
export { createDelayedMessageType, DELAYED_MESSAGE_TYPE, DELAYED_TYPE_ARGUMENT } from './delayed-type.js';
export { DueHeap } from './due-heap.js';
