/**
 * Routing one MQTT message into the core: permission (write on amq.topic), then VHost.publish, the
 * retained store for RETAIN publishes, and the barriers a QoS 1/2 acknowledgement must wait for.
 */
import type { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { PublishOutcome } from '../broker/vhost/declarations.js';
import type { SessionAccess } from '../session/access.js';
import type { DurabilityBarrier } from '../session/durability.js';
import type { RetainedStore } from './retained.js';
import { TOPIC_EXCHANGE } from './message-mapping.js';

/**
 * Publishes `message`; the queues it reached are appended to `reached` (the caller's, reused from one
 * publish to the next: nothing is allocated here per message).
 */
export function routeMessage(vhost: VHost, access: SessionAccess, message: Message, retained: RetainedStore | undefined, reached: QueueView[]): PublishOutcome {
  access.publish(TOPIC_EXCHANGE);
  // RabbitMQ's topic permissions: the MQTT topic as a routing key ('/' -> '.').
  access.publishTopic(TOPIC_EXCHANGE, message.routingKey);
  const outcome = vhost.publish(message, reached);
  retained?.retain(message);
  return outcome;
}

/** Every barrier an acknowledgement of the publish must wait for: replicated or remote queues, the retained queue. */
export function joinBarriers(reached: readonly QueueView[], retained: RetainedStore | undefined, confirms: { join(barrier: DurabilityBarrier): void }): void {
  for (let i = 0; i < reached.length; i++) {
    const barrier = reached[i]!.durability;
    if (barrier !== undefined) confirms.join(barrier);
  }
  if (retained?.durability !== undefined) confirms.join(retained.durability);
}
