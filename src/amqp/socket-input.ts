import { FrameDecodeError } from './codec/errors.js';
import type { FrameParser } from './codec/frames.js';
import { ConnectionState } from './connection-types.js';

const HEADER_LENGTH = 8;
const EMPTY = Buffer.alloc(0);
/** Malformed frames in one chunk tolerated while closing before input is dropped altogether. */
const MAX_PARSE_RETRIES = 64;

/** What socket input needs of its connection. */
export interface SocketInputHost {
  currentState(): ConnectionState;
  /** The first 8 bytes arrived: true when they are a header we speak (the handshake then starts). */
  acceptProtocolHeader(header: Buffer): boolean;
  /** A frame that could not be decoded: close the connection with its error. */
  closeWithError(err: FrameDecodeError): void;
  /** Anything else the parser threw is a bug. */
  internalError(err: unknown, what: string): void;
  /** Framing is lost: half-close our side. */
  endSocket(): void;
}

/**
 * Socket bytes into the frame parser: the protocol header first (spec 4.2.2), then frames; decode errors
 * become connection errors, and once framing is lost nothing more is parsed.
 */
export class SocketInput {
  /** A protocol header split over several chunks. */
  private header: Buffer | undefined;
  private broken = false;

  constructor(
    private readonly parser: FrameParser,
    private readonly host: SocketInputHost,
  ) {}

  push(chunk: Buffer): void {
    if (this.host.currentState() === ConnectionState.AwaitingHeader) {
      const rest = this.takeProtocolHeader(chunk);
      if (rest === undefined || rest.length === 0) return;
      chunk = rest;
    }
    if (this.stopped()) return;
    this.feedParser(chunk);
  }

  private stopped(): boolean {
    return this.broken || this.host.currentState() === ConnectionState.Closed;
  }

  /** Returns the bytes after the 8-byte header, or undefined while it is incomplete or refused. */
  private takeProtocolHeader(chunk: Buffer): Buffer | undefined {
    const have = this.header === undefined ? chunk : Buffer.concat([this.header, chunk]);
    if (have.length < HEADER_LENGTH) {
      this.header = have;
      return undefined;
    }
    this.header = undefined;
    return this.host.acceptProtocolHeader(have) ? have.subarray(HEADER_LENGTH) : undefined;
  }

  /**
   * After a non-fatal decode error the parser keeps the rest of the chunk; pushing again parses it, so
   * a close-ok that came in the same chunk is not left waiting for more input.
   */
  private feedParser(chunk: Buffer): void {
    for (let attempt = 0; attempt < MAX_PARSE_RETRIES; attempt++) {
      try {
        this.parser.push(chunk);
        return;
      } catch (err) {
        this.onParseError(err);
        if (this.stopped()) return;
        chunk = EMPTY;
      }
    }
    this.broken = true;
  }

  private onParseError(err: unknown): void {
    if (err instanceof FrameDecodeError) {
      this.host.closeWithError(err);
      if (err.fatal) this.stopReading();
      return;
    }
    this.host.internalError(err, 'frame parser failed');
    this.stopReading();
  }

  /**
   * Framing is lost, so a close-ok could never be recognised: after the connection.close, half-close
   * our side at once and let the peer finish.
   */
  private stopReading(): void {
    this.broken = true;
    if (this.host.currentState() !== ConnectionState.Closed) this.host.endSocket();
  }
}
