/**
 * The push parser: socket bytes in (any split), whole packets out. Holds no socket; the connection
 * feeds it and handles what it emits. A packet longer than `maxPacketSize` is refused from its fixed
 * header alone (a lying length never makes the parser buffer it).
 */
import { decodePacket } from './decode.js';
import type { Packet, ProtocolLevel } from './packets.js';
import { PacketType } from './packets.js';
import { malformed, MqttProtocolError, Reason } from './reason-codes.js';

export interface ParserOptions {
  /** Largest whole packet accepted (fixed header included). */
  maxPacketSize: number;
}

export class MqttParser {
  /** Set from the CONNECT the parser decodes (or by a client-side user before feeding). */
  level: ProtocolLevel = 4;
  private pending: Buffer | undefined;
  private failed = false;

  constructor(private readonly options: ParserOptions) {}

  /** Feeds bytes; calls `onPacket` for each complete packet. Throws MqttProtocolError on bad input (then stays failed). */
  push(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    if (this.failed) return;
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    try {
      while (data.length > 0) {
        const header = readFixedHeader(data);
        if (header === undefined) break;
        const total = header.headerLength + header.remainingLength;
        if (total > this.options.maxPacketSize) {
          throw new MqttProtocolError(Reason.PacketTooLarge, `packet of ${total} bytes exceeds the maximum packet size ${this.options.maxPacketSize}`);
        }
        if (data.length < total) break;
        const body = data.subarray(header.headerLength, total);
        const type = header.byte >> 4;
        const packet = decodePacket(type, header.byte & 0x0f, body, type === PacketType.Connect ? 4 : this.level);
        if (packet.type === 'connect') this.level = packet.protocolLevel;
        data = data.subarray(total);
        onPacket(packet);
        if (this.failed) return;
      }
    } catch (error) {
      this.failed = true;
      throw error;
    }
    // Keep a copy of a partial packet: the chunk it lies in may be reused by the caller.
    if (data.length > 0) this.pending = Buffer.from(data);
  }

  /** Stops parsing (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.pending = undefined;
  }
}

/** The fixed header (2.1.1): type and flags byte, then the Remaining Length varint. Undefined if incomplete. */
function readFixedHeader(data: Buffer): { byte: number; remainingLength: number; headerLength: number } | undefined {
  if (data.length < 2) return undefined;
  let value = 0;
  for (let i = 1, multiplier = 1; i <= 4; i++, multiplier *= 128) {
    if (i >= data.length) return undefined;
    const b = data[i]!;
    value += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return { byte: data[0]!, remainingLength: value, headerLength: i + 1 };
  }
  throw malformed('remaining length longer than 4 bytes');
}
