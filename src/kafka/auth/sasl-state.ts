/**
 * A connection's place in the SASL conversation (KIP-43, KIP-152), kept in the session's slots:
 *
 *   start --SaslHandshake v0--> raw tokens (size-prefixed frames, no Kafka header) --> authenticated
 *   start --SaslHandshake v1--> SaslAuthenticate requests carrying the tokens       --> authenticated
 *
 * A client that never starts is `guest` from loopback (unless kafka.requireSasl); the door's first
 * gate keeps anyone without a user to ApiVersions and the SASL APIs.
 */
import { randomBytes } from 'node:crypto';
import type { User } from '../../auth/users.js';
import type { KafkaSession } from '../session.js';
import type { SaslExchange, SaslStep } from './mechanism.js';
import { startExchange } from './mechanisms.js';

export type SaslPhase =
  | { at: 'start' }
  /** SaslHandshake v1 chose a mechanism; tokens come in SaslAuthenticate requests. */
  | { at: 'exchanging'; exchange: SaslExchange }
  | { at: 'authenticated'; mechanism: string };

const SLOT = 'kafka-auth/sasl';

export function saslPhase(session: KafkaSession): SaslPhase {
  return (session.slots.get(SLOT) as SaslPhase | undefined) ?? { at: 'start' };
}

export function setSaslPhase(session: KafkaSession, phase: SaslPhase): void {
  session.slots.set(SLOT, phase);
}

/** The door-wide secret behind the salts shown to unknown users (stable while the door runs). */
function doorSecret(session: KafkaSession): Buffer {
  return session.door.part('kafka-auth/secret', () => randomBytes(32));
}

export function beginExchange(session: KafkaSession, mechanism: string): SaslExchange | undefined {
  return startExchange(mechanism, { users: session.door.users, remoteAddress: session.remoteAddress }, { secret: doorSecret(session) });
}

/**
 * Applies a finished step: success makes the user the session's (if they may use the door's vhost,
 * RabbitMQ's connection.open rule); a failure is logged with its detail. Returns the step as the
 * client should see it (a vhost refusal turns a success into a failure).
 */
export function settleStep(session: KafkaSession, mechanism: string, step: SaslStep): SaslStep {
  if (step.kind === 'challenge') return step;
  if (step.kind === 'success') {
    if (!session.door.users.canAccessVhost(step.user, session.vhost)) {
      return logged(session, mechanism, { kind: 'failure', reason: `access to vhost '${session.vhost}' refused for user '${step.user.name}'` });
    }
    authenticated(session, mechanism, step.user);
    return step;
  }
  return logged(session, mechanism, step);
}

function authenticated(session: KafkaSession, mechanism: string, user: User): void {
  session.user = user.name;
  session.authMechanism = mechanism;
  setSaslPhase(session, { at: 'authenticated', mechanism });
  session.logger.info({ user: user.name, mechanism }, 'Kafka client authenticated');
}

function logged(session: KafkaSession, mechanism: string, step: Extract<SaslStep, { kind: 'failure' }>): SaslStep {
  session.logger.warn({ mechanism, reason: step.reason, detail: step.detail }, 'Kafka SASL authentication failed');
  return step;
}

/** After a refusal the client must not stay: Kafka closes the connection once the answer is out. */
export function closeSoon(session: KafkaSession, reason: string): void {
  // The answer was handed to the socket in this turn (responses are written as they settle).
  setImmediate(() => session.close(reason));
}
