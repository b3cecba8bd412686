/** Which handler serves which packet a client sends; the others (CONNACK, SUBACK, ...) are protocol errors. */
import type { Packet, PacketName } from '../codec/packets.js';
import type { MqttConnection } from '../connection.js';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './acks.js';
import { handleConnect } from './connect.js';
import { handleAuth, handleDisconnect, handlePingreq } from './control.js';
import { handlePublish } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';

type Handler<P extends Packet> = (connection: MqttConnection, packet: P) => void;
type HandlerTable = { [K in PacketName]?: Handler<Extract<Packet, { type: K }>> };

export const HANDLERS: HandlerTable = {
  connect: handleConnect,
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  pingreq: handlePingreq,
  disconnect: handleDisconnect,
  auth: handleAuth,
};
