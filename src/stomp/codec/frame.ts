/**
 * One STOMP frame (STOMP 1.2, "STOMP Frames"): a command, headers in the order they came, a body.
 * Repeated headers keep only the first value (1.2: "only the first header entry SHOULD be used").
 */
export interface StompFrame {
  readonly command: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: Buffer;
}

/** How header names and values are escaped: CONNECT/CONNECTED and STOMP 1.0 frames have no escapes. */
export type HeaderEscaping = 'none' | '1.1' | '1.2';

export const CLIENT_COMMANDS = new Set([
  'CONNECT', 'STOMP', 'SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'ACK', 'NACK', 'BEGIN', 'COMMIT', 'ABORT', 'DISCONNECT',
]);

/** Raised for bytes that are not a valid frame; the connection answers with ERROR and closes. */
export class StompProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StompProtocolError';
  }
}
