/** UNSUBSCRIBE (3.10): the bindings go; UNSUBACK says per filter whether one existed (5.0). */
import type { UnsubscribePacket } from '../codec/packets.js';
import { Reason } from '../codec/reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { reasonForError } from '../errors.js';

export function handleUnsubscribe(c: MqttConnection, packet: UnsubscribePacket): void {
  const codes = packet.filters.map((filter) => {
    try {
      return c.session!.unsubscribe(c, filter) ? Reason.Success : Reason.NoSubscriptionExisted;
    } catch (error) {
      return reasonForError(error).code;
    }
  });
  c.writePacket({ type: 'unsuback', packetId: packet.packetId, reasonCodes: codes, properties: {} });
}
