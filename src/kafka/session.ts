/**
 * What a handler knows about the connection it serves (the `ctx` of the seam): the door it belongs
 * to, the authenticated Warren user, the vhost its topics live in, and per-connection slots other
 * parts (consumer groups, SASL) keep their own state in.
 */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { KafkaDoor } from './door.js';

export interface KafkaSession {
  readonly door: KafkaDoor;
  readonly broker: Broker;
  readonly logger: Logger;
  /** "127.0.0.1:53412 -> 127.0.0.1:9092", as other doors name connections. */
  readonly name: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The address and port the client connected to (what Metadata advertises unless configured). */
  readonly localAddress: string;
  readonly localPort: number;
  /**
   * The Warren user the requests act as: `guest` for a loopback client that has not authenticated
   * (as AMQP's loopback rule), undefined before a client that must authenticate has done so (non-loopback,
   * or `kafka.requireSasl`); SASL (src/kafka/auth) sets it.
   */
  user: string | undefined;
  /** The vhost topics live in (`kafka.vhost`). */
  vhost: string;
  /** The client id of the last request (request header v1+). */
  clientId: string | null;
  /** How the client authenticated, for the management API ('none' until SASL). */
  authMechanism: string;
  /**
   * While set, each size-prefixed frame goes here instead of the request parser (SaslHandshake v0's
   * raw SASL tokens, KIP-43); a returned buffer is written back as one size-prefixed frame.
   */
  rawFrameHandler: ((frame: Buffer) => Buffer | undefined | Promise<Buffer | undefined>) | undefined;
  /** Per-connection state of other parts, by a key each part owns. */
  readonly slots: Map<string, unknown>;
  /**
   * Runs `callback` when the connection has closed (group members leave, SASL state goes; at once if it
   * already has). Returns a function that takes the callback back (a finished long poll does).
   */
  onClose(callback: () => void): () => void;
  /** The connection has closed: nothing written now reaches the client. */
  readonly closed: boolean;
  /** Closes this connection only (the door and other clients are untouched). */
  close(reason: string): void;
}
