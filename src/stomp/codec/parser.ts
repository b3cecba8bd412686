import { isUtf8 } from 'node:buffer';
import { unescapeHeader } from './escape.js';
import { StompProtocolError, type HeaderEscaping, type StompFrame } from './frame.js';

export interface ParserLimits {
  /** Command line plus headers, in bytes (RabbitMQ's STOMP plugin: max_header_length). */
  readonly maxHeaderBytes: number;
  readonly maxHeaders: number;
  /** Largest body accepted, with or without content-length. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = { maxHeaderBytes: 64 * 1024, maxHeaders: 1000, maxBodyBytes: 128 * 1024 * 1024 };

export interface ParserEvents {
  frame(frame: StompFrame): void;
  /** An EOL between frames: the peer's heart-beat (1.1 "Heart-beating"). */
  heartbeat(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

/**
 * The push parser: socket (or WebSocket) bytes in, frames out, whatever the chunking. Nothing about
 * sockets or sessions. `escaping` is set by the connection once a version is negotiated (CONNECT and
 * CONNECTED are never escaped, STOMP 1.2 "Value Encoding"); events run synchronously inside `push`,
 * so a change made while handling a frame applies to the next frame of the same chunk.
 * Every malformed input throws a StompProtocolError; after one the parser must not be used again.
 */
export class StompParser {
  escaping: HeaderEscaping = 'none';
  private pending: Buffer = Buffer.alloc(0);
  /** Where the LF search of an incomplete header block resumes (no rescans for byte-by-byte input). */
  private scanFrom = 0;
  /** Parsed head of the frame whose body is still arriving. */
  private head: { command: string; headers: Map<string, string>; bodyStart: number; length: number | undefined } | undefined;

  constructor(
    private readonly events: ParserEvents,
    private readonly limits: ParserLimits = DEFAULT_PARSER_LIMITS,
  ) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    for (;;) {
      const next = this.step(offset);
      if (next === undefined) break;
      offset = next;
    }
    if (offset > 0) {
      this.pending = this.pending.subarray(offset);
      this.scanFrom -= offset;
      if (this.head !== undefined) this.head.bodyStart -= offset;
    }
    if (this.pending.length === 0) this.pending = Buffer.alloc(0);
  }

  /** Consumes one heart-beat or frame from `offset`; undefined when more bytes are needed. */
  private step(offset: number): number | undefined {
    const buf = this.pending;
    if (this.head !== undefined) return this.readBody(offset);
    if (offset >= buf.length) return undefined;
    const first = buf[offset];
    if (first === LF) {
      this.events.heartbeat();
      return offset + 1;
    }
    if (first === CR) {
      if (offset + 1 >= buf.length) return undefined;
      if (buf[offset + 1] !== LF) throw new StompProtocolError('CR not followed by LF');
      this.events.heartbeat();
      return offset + 2;
    }
    return this.readHead(offset);
  }

  private readHead(offset: number): number | undefined {
    const buf = this.pending;
    let from = Math.max(offset, this.scanFrom);
    for (;;) {
      const lf = buf.indexOf(LF, from);
      if (lf < 0) {
        this.scanFrom = buf.length;
        if (buf.length - offset > this.limits.maxHeaderBytes) throw this.tooLongHead();
        return undefined;
      }
      if (lf + 1 - offset > this.limits.maxHeaderBytes) throw this.tooLongHead();
      // The head ends at an empty line: LF LF or LF CR LF.
      const blank = lf > offset && (buf[lf - 1] === LF || (buf[lf - 1] === CR && lf - 2 >= offset && buf[lf - 2] === LF));
      if (blank) {
        this.scanFrom = 0;
        // STOMP 1.2 "Value Encoding": commands and headers are UTF-8; a bad sequence is refused, not
        // decoded into U+FFFD (a destination would silently name another queue or topic).
        const head = buf.subarray(offset, lf + 1);
        if (!isUtf8(head)) throw new StompProtocolError('frame command or headers are not valid UTF-8');
        this.parseHead(head.toString('utf8'), lf + 1);
        // Body incomplete: the head is consumed all the same; the next push resumes at the body.
        return this.readBody(lf + 1) ?? lf + 1;
      }
      from = lf + 1;
    }
  }

  private tooLongHead(): StompProtocolError {
    return new StompProtocolError(`frame headers exceed ${this.limits.maxHeaderBytes} bytes`);
  }

  private parseHead(text: string, bodyStart: number): void {
    const lines = text.split('\n');
    lines.length -= 2; // the blank line and what follows its LF
    const command = stripCr(lines[0] ?? '');
    if (command === '') throw new StompProtocolError('empty command');
    if (lines.length - 1 > this.limits.maxHeaders) throw new StompProtocolError(`more than ${this.limits.maxHeaders} headers`);
    const escaping = command === 'CONNECT' || command === 'STOMP' ? 'none' : this.escaping;
    const headers = new Map<string, string>();
    for (let i = 1; i < lines.length; i++) {
      const line = stripCr(lines[i] as string);
      const colon = line.indexOf(':');
      if (colon < 0) throw new StompProtocolError(`header line without ':' in ${command} frame`);
      const name = unescapeHeader(line.slice(0, colon), escaping);
      if (!headers.has(name)) headers.set(name, unescapeHeader(line.slice(colon + 1), escaping));
    }
    this.head = { command, headers, bodyStart, length: contentLength(headers.get('content-length'), this.limits.maxBodyBytes) };
  }

  private readBody(bodyStart: number): number | undefined {
    const head = this.head as NonNullable<StompParser['head']>;
    head.bodyStart = bodyStart;
    const buf = this.pending;
    let end: number;
    if (head.length !== undefined) {
      end = bodyStart + head.length;
      if (buf.length <= end) return undefined;
      if (buf[end] !== NUL) throw new StompProtocolError('frame body is longer than its content-length (no NUL after it)');
    } else {
      end = buf.indexOf(NUL, Math.max(bodyStart, this.scanFrom));
      if (end < 0) {
        this.scanFrom = buf.length;
        if (buf.length - bodyStart > this.limits.maxBodyBytes) throw new StompProtocolError(`frame body exceeds ${this.limits.maxBodyBytes} bytes`);
        return undefined;
      }
      this.scanFrom = 0;
    }
    this.head = undefined;
    // A copy: a body kept in a queue must not pin the whole socket chunk it arrived in.
    const body = end === bodyStart ? EMPTY : Buffer.from(buf.subarray(bodyStart, end));
    this.events.frame({ command: head.command, headers: head.headers, body });
    return end + 1;
  }
}

const EMPTY = Buffer.alloc(0);

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

function contentLength(value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(value)) throw new StompProtocolError(`invalid content-length '${value}'`);
  const length = Number(value);
  if (length > max) throw new StompProtocolError(`frame body of ${length} bytes exceeds the limit of ${max}`);
  return length;
}
