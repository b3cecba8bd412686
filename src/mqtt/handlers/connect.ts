/**
 * CONNECT (3.1): protocol level, credentials against Warren's users (RabbitMQ's "vhost:user" user
 * names; no user name = guest, from loopback only, unless mqtt.allowAnonymous is false), client id,
 * session (clean start, expiry, takeover), keepalive, Will; answered by CONNACK.
 */
import { randomBytes } from 'node:crypto';
import { isLoopbackAddress } from '../../auth/loopback.js';
import type { User } from '../../auth/users.js';
import { SessionAccess } from '../../session/access.js';
import type { ConnectPacket, Properties } from '../codec/packets.js';
import { connackCodeForV4, MqttProtocolError, Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { Outbound } from '../outbound.js';
import type { Qos2State } from '../qos2-state.js';
import { MqttSession, NEVER_EXPIRES } from '../session.js';
import { checkTopicName } from '../topics.js';

/** Refuses the connection with CONNACK (3.2.2.2: session present 0), then closes it. */
function refuse(c: MqttConnection, reason: number, text: string): void {
  c.context.logger.info({ connection: c.name, reason: text }, 'MQTT connection refused');
  const code = c.v5 ? reason : connackCodeForV4(reason);
  c.writePacket({ type: 'connack', sessionPresent: false, reasonCode: code, properties: { reasonString: text } });
  c.close(undefined);
}

/** "vhost:user" picks the vhost (RabbitMQ's MQTT convention); a plain name uses the default vhost. */
function splitUsername(username: string, defaultVhost: string): { vhost: string; user: string } {
  const colon = username.indexOf(':');
  if (colon < 0) return { vhost: defaultVhost, user: username };
  return { vhost: username.slice(0, colon), user: username.slice(colon + 1) };
}

function authenticate(c: MqttConnection, packet: ConnectPacket): { user: User; vhost: string } | string {
  const settings = c.context.settings;
  const remote = c.transport.remoteAddress;
  if (packet.username === undefined) {
    if (!settings.allowAnonymous) return 'a user name is required (mqtt.allowAnonymous is false)';
    if (!isLoopbackAddress(remote)) return "anonymous clients connect as 'guest', which is allowed from localhost only";
    const guest = c.context.users.getUser('guest');
    if (guest === undefined) return "anonymous clients connect as 'guest', which does not exist";
    return { user: guest, vhost: settings.defaultVhost };
  }
  const { vhost, user } = splitUsername(packet.username, settings.defaultVhost);
  const outcome = c.context.users.authenticate(user, packet.password?.toString('utf8') ?? '', remote);
  if (!outcome.ok) return outcome.reason;
  return { user: outcome.user, vhost };
}

export function handleConnect(c: MqttConnection, packet: ConnectPacket): void {
  c.level = packet.protocolLevel;
  const v5 = c.v5;
  const auth = authenticate(c, packet);
  if (typeof auth === 'string') return refuse(c, Reason.BadUserNameOrPassword, auth);
  const vhost = c.context.broker.getVhost(auth.vhost);
  if (vhost === undefined || !c.context.users.canAccessVhost(auth.user, auth.vhost)) {
    return refuse(c, Reason.NotAuthorized, `user '${auth.user.name}' has no access to vhost '${auth.vhost}'`);
  }
  // 3.1.3.1: an empty client id needs a clean session in 3.1.1; 5.0 assigns one.
  let clientId = packet.clientId;
  let assigned: string | undefined;
  if (clientId === '') {
    if (!v5 && !packet.cleanStart) return refuse(c, Reason.ClientIdentifierNotValid, 'an empty client id needs clean session 1');
    clientId = assigned = `warren-${randomBytes(12).toString('base64url')}`;
  }
  if (packet.will !== undefined) {
    try {
      checkTopicName(packet.will.topic);
    } catch (error) {
      return refuse(c, (error as MqttProtocolError).reasonCode, (error as Error).message);
    }
  }
  c.user = auth.user;
  c.vhost = vhost;
  c.clientId = clientId;
  c.access = new SessionAccess(c.context.users, auth.user, vhost.name, clientId);
  c.will = packet.will;
  const props = packet.properties;
  if (props.receiveMaximum === 0 || props.maximumPacketSize === 0) throw new MqttProtocolError(Reason.ProtocolError, 'receive maximum or maximum packet size 0');
  if (props.receiveMaximum !== undefined) c.clientReceiveMaximum = Math.min(props.receiveMaximum, c.context.settings.deliveryWindow);
  if (props.maximumPacketSize !== undefined) c.clientMaxPacketSize = props.maximumPacketSize;

  // 3.1.2.11.2 (5.0) session expiry; 3.1.1: clean session 0 = a session that does not expire.
  const expiry = v5 ? (props.sessionExpiryInterval ?? 0) : packet.cleanStart ? 0 : NEVER_EXPIRES;
  const { session, present } = openSession(c, clientId, packet.cleanStart, expiry);
  c.session = session;
  c.outbound = new Outbound(c, session);
  c.state = 'connected';
  c.startKeepAlive(packet.keepAlive);

  const connackProps: Properties = {};
  if (v5) {
    if (assigned !== undefined) connackProps.assignedClientIdentifier = assigned;
    connackProps.receiveMaximum = c.context.settings.receiveMaximum;
    connackProps.maximumPacketSize = c.context.settings.maxPacketSize;
    connackProps.topicAliasMaximum = c.context.settings.topicAliasMaximum;
    connackProps.retainAvailable = 1;
    connackProps.wildcardSubscriptionAvailable = 1;
    connackProps.subscriptionIdentifierAvailable = 1;
    connackProps.sharedSubscriptionAvailable = 1;
  }
  c.writePacket({ type: 'connack', sessionPresent: present, reasonCode: 0, properties: connackProps });
  // 4.4: QoS 2 deliveries the client had PUBREC'd get their PUBREL again.
  for (const packetId of session.pendingRelease) c.writePacket({ type: 'pubrel', packetId, reasonCode: 0 });
  session.attach(c);
  c.context.logger.debug({ connection: c.name, clientId, vhost: vhost.name, present }, 'MQTT client connected');
}

/** Finds, takes over, discards or creates the client's session (3.1.2.4, 3.1.4). */
function openSession(c: MqttConnection, clientId: string, cleanStart: boolean, expiry: number): { session: MqttSession; present: boolean } {
  const vhost = c.vhost!;
  const registry = c.context.sessions;
  let session = registry.get(vhost.name, clientId);
  // 3.1.4-3: a second connection with the same client id takes over; the first is disconnected.
  const previousHost = session?.host;
  if (previousHost !== undefined && previousHost !== c) (previousHost as MqttConnection).close(Reason.SessionTakenOver, 'another connection took over the session');
  if (session !== undefined && previousHost !== undefined) {
    const old = previousHost as MqttConnection;
    // 3.1.3.2.2: the old connection ended without DISCONNECT, so its Will goes out, unless it has a
    // delay (the session continues here before that delay runs out, which cancels it).
    if (old.will !== undefined && (!old.v5 || (old.will.properties.willDelayInterval ?? 0) === 0)) c.context.publishWill(old, session, old.will);
    old.will = undefined;
    session.detach();
    (previousHost as MqttConnection).outbound?.releaseAll();
  }
  if (session !== undefined && (cleanStart || !session.persistent)) {
    session.end(previousHost ?? c);
    registry.delete(session);
    session = undefined;
  }
  if (session !== undefined) {
    session.expirySeconds = expiry;
    return { session, present: true };
  }
  session = new MqttSession(vhost, clientId, expiry, c.context.broker.placement !== undefined);
  registry.set(session);
  const qos2 = qos2StateOf(c, session);
  if (qos2 !== undefined && (cleanStart || expiry === 0)) session.qos2Store!.save(clientId, { inbound: [], release: [] });
  const restoreQos2 = qos2 !== undefined && !cleanStart && expiry !== 0;
  if (restoreQos2) session.restoreQos2(qos2);
  const stored = vhost.getQueue(session.queueName);
  if (stored !== undefined) {
    if (cleanStart || expiry === 0 || stored.exclusiveOwner !== undefined) {
      if (stored.exclusiveOwner === undefined) vhost.deleteQueue(stored.name, { ifUnused: false, ifEmpty: false }, c);
    } else {
      // A persistent session from before a restart (or another node's listener): its queue is its state.
      session.restoreFromQueue(stored);
      return { session, present: true };
    }
  }
  return { session, present: restoreQos2 };
}

/** The store of QoS 2 state for the session's vhost, and what it kept for this client (a restart's leftovers). */
function qos2StateOf(c: MqttConnection, session: MqttSession): Qos2State | undefined {
  try {
    session.qos2Store = c.context.qos2StateFor(session.vhost);
  } catch (error) {
    // E.g. another cluster node holds the queue: QoS 2 state then lives in memory only.
    c.context.logger.warn({ err: error, vhost: session.vhost.name }, 'MQTT QoS 2 state store unavailable');
    return undefined;
  }
  return session.qos2Store.load(session.clientId);
}
