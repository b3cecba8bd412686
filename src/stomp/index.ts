export { StompListener, type StompListenerOptions } from './server.js';
export { attachStompWebSocket, STOMP_WEBSOCKET_PATH } from './websocket.js';
export { StompParser, DEFAULT_PARSER_LIMITS, type ParserLimits } from './codec/parser.js';
export { encodeFrame } from './codec/encoder.js';
export type { StompFrame } from './codec/frame.js';
