import { amqpPriority } from './backoff.js';
import type { PublishSpec } from './state-client.js';
import { GROUP_HEADER, names, type JobWire } from './types.js';

/**
 * The same message as publishJob, for the broker to publish itself when a record put holds (one round
 * trip and one group commit for the record and the message: see the records route's `publish`).
 */
export function jobPublishSpec(queue: string, wire: JobWire, delay: number): PublishSpec {
  const n = names(queue);
  const grouped = wire.opts.group !== undefined;
  const headers: Record<string, unknown> = {};
  if (grouped) headers[GROUP_HEADER] = wire.opts.group!.id;
  if (delay > 0) headers['x-delay'] = delay;
  // No headers property when there are none: the broker would keep an empty table per queued job.
  const properties: Record<string, unknown> = { delivery_mode: 2, message_id: wire.id, content_type: 'application/json' };
  if (Object.keys(headers).length > 0) properties['headers'] = headers;
  if (!grouped) properties['priority'] = amqpPriority(wire.opts.priority);
  const payload = JSON.stringify(wire);
  if (delay > 0) return { exchange: n.delayed, routing_key: grouped ? 'group' : 'job', payload, properties };
  return { exchange: '', routing_key: grouped ? n.groups : n.queue, payload, properties };
}
