export { PushService, type PushConfig } from './push-service.js';
export type { PushQueueState } from './push-consumer.js';
export { signWebhook } from './signature.js';
