/**
 * Routing one MQTT message into the core: permission (write on amq.topic), then VHost.publish, the
 * retained store for RETAIN publishes, and the barriers a QoS 1/2 acknowledgement must wait for.
 */
import type { Message } from '../broker/message.js';
import type { QueueView } from '../broker/queue-view.js';
import type { VHost } from '../broker/vhost.js';
import type { SessionAccess } from '../session/access.js';
import type { DurabilityBarrier } from '../session/durability.js';
import type { RetainedStore } from './retained.js';
import { TOPIC_EXCHANGE } from './message-mapping.js';

export interface Routed {
  readonly routed: number;
  readonly refused: boolean;
  /** Extra barriers (replicated or remote queues, the retained queue) the acknowledgement waits for. */
  readonly barriers: DurabilityBarrier[];
  /** The queues it reached (for credit flow). */
  readonly reached: readonly QueueView[];
}

export function routeMessage(vhost: VHost, access: SessionAccess, message: Message, retained: RetainedStore | undefined): Routed {
  access.publish(TOPIC_EXCHANGE);
  // RabbitMQ's topic permissions: the MQTT topic as a routing key ('/' -> '.').
  access.publishTopic(TOPIC_EXCHANGE, message.routingKey);
  const reached: QueueView[] = [];
  const outcome = vhost.publish(message, reached);
  const barriers: DurabilityBarrier[] = [];
  for (const queue of reached) if (queue.durability !== undefined) barriers.push(queue.durability);
  if (retained !== undefined) {
    retained.retain(message);
    if (retained.durability !== undefined) barriers.push(retained.durability);
  }
  return { routed: outcome.routed, refused: outcome.refused, barriers, reached };
}
