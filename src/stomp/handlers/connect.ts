import { isLoopbackAddress } from '../../auth/loopback.js';
import { SessionAccess } from '../../session/access.js';
import { WARREN_VERSION } from '../../version.js';
import type { StompFrame } from '../codec/frame.js';
import type { StompConnection, StompVersion } from '../connection.js';
import { StompRequestError } from '../errors.js';
import { Heartbeats, planHeartbeat } from '../heartbeat.js';
import type { HandlerTable } from './types.js';

const SUPPORTED: readonly StompVersion[] = ['1.2', '1.1', '1.0'];

/** The highest version both speak; no accept-version header means 1.0 (STOMP 1.1 "Protocol Negotiation"). */
function negotiate(accept: string | undefined): StompVersion | undefined {
  if (accept === undefined) return '1.0';
  const offered = new Set(accept.split(',').map((v) => v.trim()));
  return SUPPORTED.find((v) => offered.has(v));
}

/** RabbitMQ's default user: a CONNECT without login is guest, accepted only from the local machine. */
const DEFAULT_LOGIN = 'guest';

function authenticate(c: StompConnection, frame: StompFrame) {
  const login = frame.headers.get('login');
  const users = c.context.users;
  const peer = c.transport.peerHost;
  if (login === undefined) {
    const guest = users.getUser(DEFAULT_LOGIN);
    if (guest === undefined || !isLoopbackAddress(peer)) {
      throw new StompRequestError('Bad CONNECT', `a CONNECT without login is the '${DEFAULT_LOGIN}' user, accepted only from localhost`);
    }
    return guest;
  }
  const outcome = users.authenticate(login, frame.headers.get('passcode') ?? '', peer);
  if (!outcome.ok) throw new StompRequestError('Bad CONNECT', `Access refused for user '${login}': ${outcome.reason}`);
  return outcome.user;
}

/** CONNECT and STOMP (1.2 "Connecting"): version, credentials, vhost (`host`), heart-beats; CONNECTED. */
function connect(c: StompConnection, frame: StompFrame): void {
  if (c.session !== undefined) throw new StompRequestError('Already connected', 'CONNECT sent twice on one connection');
  const version = negotiate(frame.headers.get('accept-version'));
  if (version === undefined) {
    c.send('ERROR', [['version', SUPPORTED.slice().reverse().join(','), ], ['message', 'Supported protocol versions are 1.0,1.1,1.2'], ['content-type', 'text/plain']], Buffer.from(`none of the versions '${frame.headers.get('accept-version') ?? ''}' is supported\n`));
    c.closeAfterFlush();
    return;
  }
  const user = authenticate(c, frame);
  const vhostName = frame.headers.get('host') ?? '/';
  const vhost = c.context.broker.getVhost(vhostName);
  if (vhost === undefined || !c.context.users.canAccessVhost(user, vhostName)) {
    throw new StompRequestError('Bad CONNECT', `Virtual host '${vhostName}' access denied for user '${user.name}'`);
  }
  if (c.context.openConnectionCount() > c.context.settings.maxConnections) {
    throw new StompRequestError('Bad CONNECT', `connection refused: node connection limit (${c.context.settings.maxConnections}) is reached`);
  }
  const plan = planHeartbeat(version === '1.0' ? undefined : frame.headers.get('heart-beat'), c.context.settings.minHeartbeatMs);
  if (plan === 'invalid') throw new StompRequestError('Invalid heart-beat header', `'${frame.headers.get('heart-beat') ?? ''}' is not two comma-separated numbers`);
  const id = `warren-${c.serial}-${Date.now().toString(36)}`;
  const clientProperties: Record<string, string> = {};
  for (const name of ['client-id', 'host', 'accept-version', 'heart-beat']) {
    const value = frame.headers.get(name);
    if (value !== undefined) clientProperties[name] = value;
  }
  const heartbeats = new Heartbeats(plan, () => c.sendHeartbeat(), () => {
    c.log.info('STOMP client missed its heart-beats; closing');
    c.destroy();
  });
  const headers: Array<[string, string]> = [['version', version], ['session', id], ['server', `Warren/${WARREN_VERSION}`], ['heart-beat', plan.header]];
  c.send('CONNECTED', version === '1.0' ? headers.filter(([n]) => n !== 'heart-beat') : headers);
  c.opened(
    { version, user, vhost, access: new SessionAccess(c.context.users, user, vhostName), id, clientProperties, heartbeatMs: Math.max(plan.sendEveryMs, plan.expectWithinMs / 2) },
    heartbeats,
  );
  c.log.info({ user: user.name, vhost: vhostName, version }, 'STOMP session open');
}

export const connectHandlers: HandlerTable = { CONNECT: connect, STOMP: connect };
