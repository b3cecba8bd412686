/**
 * PUBLISH from a client (3.3): topic alias (3.3.2.3.4), topic checks, QoS 2 duplicate detection by
 * packet id (4.3.3: the id stays taken until PUBREL, across reconnects), routing through amq.topic,
 * and the acknowledgement (PUBACK / PUBREC) once the message is durable.
 */
import type { PublishOutcome } from '../../broker/vhost/declarations.js';
import type { PublishPacket } from '../codec/packets.js';
import { MqttProtocolError, Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { publishToMessage } from '../message-mapping.js';
import { joinBarriers, routeMessage } from '../publishing.js';
import { emptyArray } from '../../util/empty-array.js';

function resolveTopic(c: MqttConnection, packet: PublishPacket): string {
  const alias = packet.properties.topicAlias;
  if (alias === undefined) return packet.topic;
  if (alias === 0 || alias > c.context.settings.topicAliasMaximum) throw new MqttProtocolError(Reason.TopicAliasInvalid, `topic alias ${alias} out of range`);
  if (packet.topic !== '') {
    c.topicAliases.set(alias, packet.topic);
    return packet.topic;
  }
  const topic = c.topicAliases.get(alias);
  if (topic === undefined) throw new MqttProtocolError(Reason.ProtocolError, `topic alias ${alias} was never set`);
  return topic;
}

export function handlePublish(c: MqttConnection, packet: PublishPacket): void {
  // A raised alarm stops reading this publisher from now on (this packet was read already).
  if (c.flow.blocking) c.flow.block();
  const topic = resolveTopic(c, packet);
  const routingKey = c.routingKeyOf(topic);
  const session = c.session!;
  if (packet.qos > 0 && c.pendingAcks.length + session.inboundQos2.size >= c.context.settings.receiveMaximum) {
    throw new MqttProtocolError(Reason.ReceiveMaximumExceeded, 'more unacknowledged QoS 1/2 publishes than the receive maximum');
  }
  if (packet.qos === 2 && session.inboundQos2.has(packet.packetId!)) {
    // 4.3.3: a re-sent QoS 2 publish is not routed again.
    return c.writeAck('pubrec', packet.packetId!, Reason.Success);
  }
  const message = publishToMessage(packet, topic, routingKey);
  // Remembered for No Local only while the session has such a subscription: a WeakSet entry per
  // message is an ephemeron the garbage collector must trace.
  if (session.hasNoLocal()) session.published.add(message);
  const retained = packet.retain ? c.context.retainedFor(c.vhost!) : undefined;
  const reached = c.reachedQueues;
  let routed: PublishOutcome;
  try {
    routed = routeMessage(c.vhost!, c.access, message, retained, reached);
  } catch (error) {
    emptyArray(reached);
    if (packet.qos === 0 || !c.v5) throw error;
    // 5.0: a refused QoS 1/2 publish is answered with its reason (3.4.2.1), the connection stays.
    const reasonCode = error instanceof Error && 'kind' in error && error.kind === 'access-refused' ? Reason.NotAuthorized : Reason.UnspecifiedError;
    return c.writePacket({ type: packet.qos === 1 ? 'puback' : 'pubrec', packetId: packet.packetId!, reasonCode, properties: { reasonString: (error as Error).message } });
  }
  try {
    if (reached.length > 0) c.flow.publishedTo(reached);
    if (packet.qos === 0) return;
    if (packet.qos === 2) session.inboundQos2.add(packet.packetId!);
    c.awaitDurable(packet.packetId!, packet.qos === 1 ? 'puback' : 'pubrec', routed.routed > 0, routed.refused);
    joinBarriers(reached, retained, c.confirms!);
  } finally {
    emptyArray(reached);
  }
  // The id must be on disk before PUBREC: after a restart a re-sent PUBLISH is still recognised (4.3.3).
  const stateBarrier = packet.qos === 2 ? session.persistQos2() : undefined;
  if (stateBarrier !== undefined) c.confirms!.join(stateBarrier);
}
