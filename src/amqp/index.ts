export { AmqpListener, type AmqpListenerOptions, type ListenerTimeouts } from './server.js';
export {
  AmqpConnection,
  ConnectionState,
  type ChannelFactory,
  type ChannelLike,
} from './connection.js';
export { DEFAULT_LIMITS, resolveLimits, type AmqpLimits } from './limits.js';
export { SERVER_CAPABILITIES, serverProperties } from './server-properties.js';
export { PROTOCOL_HEADER } from './handshake.js';
export type { ChannelHost } from './channel/host.js';
