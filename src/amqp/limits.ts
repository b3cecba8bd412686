import { FRAME_MIN_SIZE } from './handshake.js';

/** Per-listener limits; defaults are RabbitMQ's. */
export interface AmqpLimits {
  /** Connections past connection.open; beyond it connection.open gets 530 NOT_ALLOWED (RabbitMQ's connection_max). */
  maxConnections: number;
  /** Highest channel number a client may open (RabbitMQ: 2047). */
  channelMax: number;
  /** Largest frame in bytes, header and end octet included (RabbitMQ: 131072). */
  frameMax: number;
  /** Offered heartbeat interval in seconds; the client's tune-ok decides (0 = none). */
  heartbeatSeconds: number;
  /** Largest message body; bigger publishes are refused by the channel layer (406). */
  maxMessageBytes: number;
}

export const DEFAULT_LIMITS: Readonly<AmqpLimits> = Object.freeze({
  maxConnections: 10_000,
  channelMax: 2047,
  frameMax: 131_072,
  heartbeatSeconds: 60,
  maxMessageBytes: 128 * 1024 * 1024,
});

/** Fills in defaults and rejects values the protocol cannot carry. */
export function resolveLimits(limits: Partial<AmqpLimits> | undefined): AmqpLimits {
  const resolved: AmqpLimits = { ...DEFAULT_LIMITS, ...limits };
  requireInteger('maxConnections', resolved.maxConnections, 0, Number.MAX_SAFE_INTEGER);
  // channel-max and heartbeat are 'short' fields; frame-max is a 'long'.
  requireInteger('channelMax', resolved.channelMax, 1, 0xffff);
  requireInteger('frameMax', resolved.frameMax, FRAME_MIN_SIZE, 0xffffffff);
  requireInteger('heartbeatSeconds', resolved.heartbeatSeconds, 0, 0xffff);
  requireInteger('maxMessageBytes', resolved.maxMessageBytes, 0, Number.MAX_SAFE_INTEGER);
  return resolved;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`AMQP limit ${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
}
