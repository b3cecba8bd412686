/** MQTT 5.0 reason codes (2.4) that Warren sends, and the 3.1.1 CONNACK return codes (3.2.2.3). */
export const Reason = {
  Success: 0x00,
  GrantedQos1: 0x01,
  GrantedQos2: 0x02,
  DisconnectWithWill: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  ServerShuttingDown: 0x8b,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  QosNotSupported: 0x9b,
  SharedSubscriptionsNotSupported: 0x9e,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/** 3.1.1 CONNACK return codes. */
export const ConnackV4 = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

/** A 5.0 CONNACK reason as 3.1.1 can say it (3.2.2.3 has only six codes). */
export function connackCodeForV4(reason: number): number {
  switch (reason) {
    case Reason.Success: return ConnackV4.Accepted;
    case Reason.UnsupportedProtocolVersion: return ConnackV4.UnacceptableProtocolVersion;
    case Reason.ClientIdentifierNotValid: return ConnackV4.IdentifierRejected;
    case Reason.BadUserNameOrPassword: return ConnackV4.BadUserNameOrPassword;
    case Reason.NotAuthorized: return ConnackV4.NotAuthorized;
    default: return ConnackV4.ServerUnavailable;
  }
}

/** A malformed or forbidden packet: the connection is closed, with this reason in 5.0 (4.13). */
export class MqttProtocolError extends Error {
  constructor(
    readonly reasonCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'MqttProtocolError';
  }
}

export const malformed = (message: string): MqttProtocolError => new MqttProtocolError(Reason.MalformedPacket, message);
export const protocolError = (message: string): MqttProtocolError => new MqttProtocolError(Reason.ProtocolError, message);
