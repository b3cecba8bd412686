import { accessRefused } from '../../broker/errors.js';

/** RabbitMQ refuses to declare, delete or bind the default exchange by name "". */
export function assertNotDefaultExchange(name: string): void {
  if (name === '') throw accessRefused('operation not permitted on the default exchange');
}

/** Names starting "amq." are reserved for the broker (spec: exchange.declare / queue.declare rules). */
export function assertNotReserved(kind: 'exchange' | 'queue', name: string): void {
  if (name.startsWith('amq.')) throw accessRefused(`${kind} name '${name}' contains reserved prefix 'amq.*'`);
}
