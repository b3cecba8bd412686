import { ConnectionError, ConnectionReplyCode } from './errors.js';
import { isFieldTable, type FieldTable } from '../broker/message.js';
import type { User, UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { VHost } from '../broker/vhost.js';
import { FRAME_MIN_SIZE, amqpProtocolHeader } from './codec/frames.js';
import type { AmqpLimits } from './limits.js';
import { isSupportedMechanism, parseSaslResponse } from './sasl.js';

/** Spec frame-min-size: nobody may negotiate below it, and it is the limit until tune-ok. */
export { FRAME_MIN_SIZE };

/** Spec 4.2.3: the protocol header of AMQP 0-9-1, the only one Warren speaks. */
export const PROTOCOL_HEADER: Buffer = amqpProtocolHeader();

export function isProtocolHeader(bytes: Buffer): boolean {
  return bytes.length >= 8 && PROTOCOL_HEADER.equals(bytes.subarray(0, 8));
}

/** What connection.tune offers. */
export interface TuneOffer {
  channelMax: number;
  frameMax: number;
  heartbeat: number;
}

/**
 * Checks the client's tune-ok against the offer and returns the values in force. A client may lower
 * channel-max and frame-max but not raise them; 0 ("no limit") takes ours. A frame-max below the spec
 * minimum, or any value above ours, is a 530 NOT_ALLOWED connection error with RabbitMQ's wording. The
 * heartbeat is the client's choice (0 disables it), as RabbitMQ accepts it.
 */
export function negotiateTune(offer: TuneOffer, tuneOk: TuneOffer): TuneOffer {
  return {
    channelMax: negotiateLimit('channel_max', 1, offer.channelMax, tuneOk.channelMax),
    frameMax: negotiateLimit('frame_max', FRAME_MIN_SIZE, offer.frameMax, tuneOk.frameMax),
    heartbeat: tuneOk.heartbeat,
  };
}

function negotiateLimit(field: string, min: number, server: number, client: number): number {
  if (client === 0) return server;
  if (client < min) {
    throw new ConnectionError(
      ConnectionReplyCode.NotAllowed,
      `negotiated ${field} = ${client} is lower than the minimum allowed value (${min})`,
    );
  }
  if (server !== 0 && client > server) {
    throw new ConnectionError(
      ConnectionReplyCode.NotAllowed,
      `negotiated ${field} = ${client} is higher than the maximum allowed value (${server})`,
    );
  }
  return client;
}

/** The client capabilities the connection and its channels act on. */
export interface ClientCapabilities {
  consumerCancelNotify: boolean;
  publisherConfirms: boolean;
  basicNack: boolean;
  connectionBlocked: boolean;
  authenticationFailureClose: boolean;
}

export const NO_CAPABILITIES: Readonly<ClientCapabilities> = Object.freeze({
  consumerCancelNotify: false,
  publisherConfirms: false,
  basicNack: false,
  connectionBlocked: false,
  authenticationFailureClose: false,
});

/** Reads client-properties.capabilities; a capability counts only when it is boolean true. */
export function clientCapabilities(clientProperties: FieldTable): ClientCapabilities {
  const caps = clientProperties['capabilities'];
  if (!isFieldTable(caps)) return { ...NO_CAPABILITIES };
  return {
    consumerCancelNotify: caps['consumer_cancel_notify'] === true,
    publisherConfirms: caps['publisher_confirms'] === true,
    basicNack: caps['basic.nack'] === true,
    connectionBlocked: caps['connection.blocked'] === true,
    authenticationFailureClose: caps['authentication_failure_close'] === true,
  };
}


/** RabbitMQ's text for a refused login; the reason itself goes only to the log. */
export function loginRefusedText(mechanism: string): string {
  return `Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`;
}

/** What connection.tune offers: the listener's limits. */
export function tuneOffer(limits: AmqpLimits): TuneOffer {
  return { channelMax: limits.channelMax, frameMax: limits.frameMax, heartbeat: limits.heartbeatSeconds };
}

export type LoginOutcome =
  | { readonly ok: true; readonly user: User }
  | { readonly ok: false; readonly username: string | undefined; readonly reason: string };

/**
 * connection.start-ok's SASL response against the user registry. An unknown mechanism is a 503
 * connection error; a refused login is an outcome, since how to refuse depends on the client.
 */
export function login(users: UserRegistry, mechanism: string, response: Buffer, peerHost: string): LoginOutcome {
  if (!isSupportedMechanism(mechanism)) {
    throw new ConnectionError(ConnectionReplyCode.CommandInvalid, `unknown authentication mechanism '${mechanism}'`);
  }
  const credentials = parseSaslResponse(mechanism, response);
  if (credentials === undefined) {
    return { ok: false, username: undefined, reason: `response from client doesn't look like ${mechanism}` };
  }
  const outcome = users.authenticate(credentials.username, credentials.password, peerHost);
  if (!outcome.ok) return { ok: false, username: credentials.username, reason: outcome.reason };
  return { ok: true, user: outcome.user };
}

/** The checks of connection.open, in RabbitMQ's order; each failure is a 530 NOT_ALLOWED. */
export interface OpenRequest {
  readonly broker: Broker;
  readonly users: UserRegistry;
  readonly user: User;
  readonly vhostName: string;
  readonly openConnections: number;
  readonly maxConnections: number;
}

export function vhostToOpen(request: OpenRequest): VHost {
  const { vhostName, user } = request;
  const vhost = request.broker.getVhost(vhostName);
  if (vhost === undefined) {
    throw new ConnectionError(ConnectionReplyCode.NotAllowed, `vhost ${vhostName} not found`);
  }
  if (!request.users.canAccessVhost(user, vhostName)) {
    throw new ConnectionError(ConnectionReplyCode.NotAllowed, `access to vhost '${vhostName}' refused for user '${user.name}'`);
  }
  const limit = request.maxConnections;
  if (request.openConnections >= limit) {
    throw new ConnectionError(ConnectionReplyCode.NotAllowed, `connection refused: node connection limit (${limit}) is reached`);
  }
  return vhost;
}
