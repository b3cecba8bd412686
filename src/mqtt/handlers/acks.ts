/** PUBACK, PUBREC, PUBREL, PUBCOMP (3.4-3.7): the QoS 1 and QoS 2 handshakes in both directions. */
import type { AckPacket } from '../codec/packets.js';
import { Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';

/** The client acknowledges a QoS 1 delivery. */
export function handlePuback(c: MqttConnection, packet: AckPacket): void {
  c.outbound!.acknowledged(packet.packetId);
}

/** The client received a QoS 2 delivery: answer PUBREL (4.3.3), unless it reported a failure (>= 0x80). */
export function handlePubrec(c: MqttConnection, packet: AckPacket): void {
  const failed = packet.reasonCode >= 0x80;
  const known = c.outbound!.received(packet.packetId, failed);
  if (failed) return;
  c.writeAck('pubrel', packet.packetId, known || c.session!.pendingRelease.has(packet.packetId) ? Reason.Success : Reason.PacketIdentifierNotFound);
}

/** The client releases a QoS 2 publish it sent: the id is free again; answer PUBCOMP. */
export function handlePubrel(c: MqttConnection, packet: AckPacket): void {
  const known = c.session!.inboundQos2.delete(packet.packetId);
  if (known) c.session!.persistQos2();
  c.writeAck('pubcomp', packet.packetId, known ? Reason.Success : Reason.PacketIdentifierNotFound);
}

export function handlePubcomp(c: MqttConnection, packet: AckPacket): void {
  c.outbound!.completed(packet.packetId);
}
