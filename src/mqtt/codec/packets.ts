/**
 * The MQTT control packets (MQTT 3.1.1 OASIS standard, MQTT 5.0 OASIS standard) as plain objects.
 * Fields that exist only in 5.0 (properties, reason codes) are optional and ignored in 3.1.1.
 */

/** 3 = MQTT 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0 (the protocol level byte, 3.1.2.2). */
export type ProtocolLevel = 3 | 4 | 5;

export const PacketType = {
  Connect: 1, Connack: 2, Publish: 3, Puback: 4, Pubrec: 5, Pubrel: 6, Pubcomp: 7, Subscribe: 8,
  Suback: 9, Unsubscribe: 10, Unsuback: 11, Pingreq: 12, Pingresp: 13, Disconnect: 14, Auth: 15,
} as const;

/** MQTT 5.0 properties (2.2.2.2), by name. Repeatable ones are arrays. */
export interface Properties {
  payloadFormatIndicator?: number;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: number;
  willDelayInterval?: number;
  requestResponseInformation?: number;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQos?: number;
  retainAvailable?: number;
  userProperties?: [string, string][];
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: number;
  subscriptionIdentifierAvailable?: number;
  sharedSubscriptionAvailable?: number;
}

export type QoS = 0 | 1 | 2;

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties: Properties;
}

export interface ConnectPacket {
  type: 'connect';
  protocolName: string;
  protocolLevel: ProtocolLevel;
  cleanStart: boolean;
  keepAlive: number;
  clientId: string;
  will: Will | undefined;
  username: string | undefined;
  password: Buffer | undefined;
  properties: Properties;
}

export interface ConnackPacket {
  type: 'connack';
  sessionPresent: boolean;
  /** 3.1.1 return code (0-5) or 5.0 reason code. */
  reasonCode: number;
  properties?: Properties;
}

export interface PublishPacket {
  type: 'publish';
  dup: boolean;
  qos: QoS;
  retain: boolean;
  topic: string;
  /** Present only for QoS 1 and 2. */
  packetId: number | undefined;
  payload: Buffer;
  properties: Properties;
}

/** PUBACK, PUBREC, PUBREL, PUBCOMP: a packet id and (5.0) a reason code. */
export interface AckPacket {
  type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
  packetId: number;
  reasonCode: number;
  properties?: Properties;
}

export interface SubscriptionRequest {
  filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  /** 0 send retained at subscribe, 1 only if the subscription is new, 2 never (3.8.3.1). */
  retainHandling: 0 | 1 | 2;
}

export interface SubscribePacket {
  type: 'subscribe';
  packetId: number;
  subscriptions: SubscriptionRequest[];
  properties: Properties;
}

export interface SubackPacket {
  type: 'suback';
  packetId: number;
  reasonCodes: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  type: 'unsubscribe';
  packetId: number;
  filters: string[];
  properties: Properties;
}

export interface UnsubackPacket {
  type: 'unsuback';
  packetId: number;
  /** 5.0 only; 3.1.1's UNSUBACK has none. */
  reasonCodes: number[];
  properties?: Properties;
}

export interface PingPacket {
  type: 'pingreq' | 'pingresp';
}

export interface DisconnectPacket {
  type: 'disconnect';
  reasonCode: number;
  properties?: Properties;
}

export interface AuthPacket {
  type: 'auth';
  reasonCode: number;
  properties?: Properties;
}

export type Packet =
  | ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket
  | UnsubscribePacket | UnsubackPacket | PingPacket | DisconnectPacket | AuthPacket;

export type PacketName = Packet['type'];
