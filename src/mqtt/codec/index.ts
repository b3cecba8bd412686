export * from './packets.js';
export * from './reason-codes.js';
export { MqttParser, type ParserOptions } from './parser.js';
export { encodePacket } from './encode.js';
export { decodePacket } from './decode.js';
