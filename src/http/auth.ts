import type { FastifyReply, FastifyRequest } from 'fastify';
import type { User, UserRegistry } from '../auth/users.js';
import { SessionAccess } from '../session/access.js';
import { notAuthorised } from './errors.js';

/** Tags that let a user into the management API at all (RabbitMQ's set). */
const MANAGEMENT_TAGS = new Set(['management', 'policymaker', 'monitoring', 'administrator']);
export const REALM = 'Basic realm="Warren Management"';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hook for every /api request. */
    managementUser: User;
  }
}

/** Credentials of an `Authorization: Basic ...` header, or undefined if absent or malformed. */
export function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Authenticates a request against the broker's users (same rules as AMQP login, the loopback rule
 * included) and requires a management tag. Answers 401 itself and returns undefined on failure.
 */
export function authenticate(users: UserRegistry, request: FastifyRequest, reply: FastifyReply): User | undefined {
  const credentials = basicCredentials(request.headers.authorization);
  if (credentials === undefined) {
    void reply.code(401).header('www-authenticate', REALM).send();
    return undefined;
  }
  const outcome = users.authenticate(credentials.user, credentials.password, request.socket.remoteAddress ?? '');
  if (!outcome.ok) {
    void reply.code(401).header('www-authenticate', REALM).send({ error: 'not_authorised', reason: 'Login failed' });
    return undefined;
  }
  if (!outcome.user.tags.some((tag) => MANAGEMENT_TAGS.has(tag))) {
    void reply.code(401).send({ error: 'not_authorised', reason: 'Not management user' });
    return undefined;
  }
  return outcome.user;
}

export function isAdministrator(user: User): boolean {
  return user.tags.includes('administrator');
}

/** Monitoring users (and administrators) see every vhost, connection and channel. */
export function isMonitor(user: User): boolean {
  return isAdministrator(user) || user.tags.includes('monitoring');
}

export function isPolicymaker(user: User): boolean {
  return isAdministrator(user) || user.tags.includes('policymaker');
}

export function requireAdministrator(user: User): void {
  if (!isAdministrator(user)) throw notAuthorised('Not administrator user');
}

export function requireMonitor(user: User): void {
  if (!isMonitor(user)) throw notAuthorised('Not monitor user');
}

/** Whether a user's lists include objects of this vhost. */
export function canSeeVhost(users: UserRegistry, user: User, vhost: string): boolean {
  return isMonitor(user) || users.canAccessVhost(user, vhost);
}

/** Reading objects of one vhost: its permissions (or monitoring). */
export function requireVhostVisible(users: UserRegistry, user: User, vhost: string): void {
  if (!canSeeVhost(users, user, vhost)) throw notAuthorised('Access refused.');
}

/**
 * A change goes through the same permission checks an AMQP client of this user would meet (RabbitMQ's
 * management API acts as the user), administrators included: session/access.ts's rules, whose refusals
 * the error handler answers with 401 not_authorised. No permission row for the vhost is 401 "Access refused.".
 */
export function accessAs(users: UserRegistry, user: User, vhost: string): SessionAccess {
  if (!users.canAccessVhost(user, vhost)) throw notAuthorised('Access refused.');
  return new SessionAccess(users, user, vhost);
}
