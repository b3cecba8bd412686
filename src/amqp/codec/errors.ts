import { ConnectionError, ConnectionReplyCode } from '../errors.js';

/**
 * Everything the codec rejects. A ConnectionError, so the connection answers with connection.close
 * carrying `replyCode`. `fatal` is true when framing itself is broken (501): the byte stream cannot be
 * resynchronised, so the parser discards all later input. For the others the parser stays at the next
 * frame boundary and can go on reading (e.g. the peer's connection.close-ok).
 */
export class FrameDecodeError extends ConnectionError {
  constructor(
    replyCode: ConnectionReplyCode,
    message: string,
    readonly fatal: boolean,
  ) {
    super(replyCode, message);
    this.name = 'FrameDecodeError';
  }
}

/**
 * The first 8 bytes were not an AMQP 0-9-1 protocol header and no onProtocolHeader handler took care
 * of it. Spec 4.2.2: the server answers with its own header and closes the socket.
 */
export class ProtocolHeaderError extends FrameDecodeError {
  constructor(readonly header: Buffer) {
    super(ConnectionReplyCode.FrameError, `bad protocol header ${JSON.stringify(header.toString('latin1'))}`, true);
    this.name = 'ProtocolHeaderError';
  }
}

/** 501: bad frame end, oversize frame, unknown frame type, frame too short for its type. */
export const frameError = (message: string): FrameDecodeError =>
  new FrameDecodeError(ConnectionReplyCode.FrameError, message, true);

/**
 * 502: a method payload, table or property list that does not parse. (RabbitMQ itself answers
 * 501 "cannot decode" here; 502 is the spec's code for illegal field values and what our contract uses.)
 */
export const syntaxError = (message: string): FrameDecodeError =>
  new FrameDecodeError(ConnectionReplyCode.SyntaxError, message, false);

/**
 * 540: a class/method pair this protocol does not define. (RabbitMQ exits the connection process with
 * unknown_method_id and drops the socket without a close; 540 gives the client a reason instead.)
 */
export const notImplemented = (message: string): FrameDecodeError =>
  new FrameDecodeError(ConnectionReplyCode.NotImplemented, message, false);

/** 505: a frame that cannot be valid wherever it arrives (RabbitMQ: heartbeat on a channel, bad header). */
export const unexpectedFrame = (message: string): FrameDecodeError =>
  new FrameDecodeError(ConnectionReplyCode.UnexpectedFrame, message, false);
