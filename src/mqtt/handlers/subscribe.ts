/**
 * SUBSCRIBE (3.8): each filter becomes a binding of the session's queue on amq.topic (or a member of a
 * shared group's queue), checked against the user's permissions; SUBACK grants each its QoS or gives a
 * failure code; retained messages follow, as the retain handling option says (3.8.3.1).
 */
import type { SubscribePacket } from '../codec/packets.js';
import { MqttProtocolError, Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { reasonForError } from '../errors.js';
import type { Subscription } from '../session.js';
import { isValidFilter, parseShared } from '../topics.js';

export function handleSubscribe(c: MqttConnection, packet: SubscribePacket): void {
  const session = c.session!;
  const identifier = packet.properties.subscriptionIdentifiers?.[0];
  const codes: number[] = [];
  const retainedToSend: Subscription[] = [];
  let reasonString: string | undefined;
  for (const request of packet.subscriptions) {
    try {
      const shared = parseShared(request.filter);
      if (shared === undefined && !isValidFilter(request.filter)) throw new MqttProtocolError(Reason.TopicFilterInvalid, `invalid topic filter '${request.filter}'`);
      // 4.8.2: No Local on a shared subscription is a Protocol Error.
      if (shared !== undefined && request.noLocal) throw new MqttProtocolError(Reason.ProtocolError, 'no local on a shared subscription');
      const sub: Subscription = { ...request, identifier };
      const existed = session.subscribe(c, sub, shared, request.filter);
      codes.push(request.qos);
      // Shared subscriptions get no retained messages (4.8.2).
      if (shared === undefined && (request.retainHandling === 0 || (request.retainHandling === 1 && !existed))) retainedToSend.push(sub);
    } catch (error) {
      if (error instanceof MqttProtocolError && error.reasonCode === Reason.ProtocolError) throw error;
      const { code, text } = reasonForError(error);
      codes.push(c.v5 ? code : 0x80);
      reasonString = text;
    }
  }
  c.writePacket({ type: 'suback', packetId: packet.packetId, reasonCodes: codes, properties: reasonString === undefined ? {} : { reasonString } });
  if (retainedToSend.length === 0) return;
  const retained = c.context.retainedFor(c.vhost!);
  for (const sub of retainedToSend) for (const message of retained.matching(sub.filter)) c.outbound!.deliverRetained(message, sub);
}
