/**
 * The push parser: socket bytes in (any split), whole packets out. Holds no socket; the connection
 * feeds it and handles what it emits. A packet longer than `maxPacketSize` is refused from its fixed
 * header alone (a lying length never makes the parser buffer it).
 */
import { decodePacket } from './decode.js';
import type { Packet, ProtocolLevel } from './packets.js';
import { PacketType } from './packets.js';
import { LastString } from './reader.js';
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
  /** The Remaining Length readFixedHeader found (a field, not a record per packet). */
  private remainingLength = 0;
  private readonly lastTopic = new LastString();

  constructor(private readonly options: ParserOptions) {}

  /** Feeds bytes; calls `onPacket` for each complete packet. Throws MqttProtocolError on bad input (then stays failed). */
  push(chunk: Buffer, onPacket: (packet: Packet) => void): void {
    if (this.failed) return;
    const data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let at = 0;
    try {
      while (at < data.length) {
        const headerLength = this.readFixedHeader(data, at);
        if (headerLength === 0) break;
        const total = headerLength + this.remainingLength;
        if (total > this.options.maxPacketSize) {
          throw new MqttProtocolError(Reason.PacketTooLarge, `packet of ${total} bytes exceeds the maximum packet size ${this.options.maxPacketSize}`);
        }
        if (data.length - at < total) break;
        const byte = data[at]!;
        const type = byte >> 4;
        const packet = decodePacket(type, byte & 0x0f, data, at + headerLength, at + total, type === PacketType.Connect ? 4 : this.level, this.lastTopic);
        if (packet.type === 'connect') this.level = packet.protocolLevel;
        at += total;
        onPacket(packet);
        if (this.failed) return;
      }
    } catch (error) {
      this.failed = true;
      throw error;
    }
    // Keep a copy of a partial packet: the chunk it lies in may be reused by the caller.
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
  }

  /** Stops parsing (the connection is closing). */
  stop(): void {
    this.failed = true;
    this.pending = undefined;
  }

  /**
   * The fixed header at `at` (2.1.1): type and flags byte, then the Remaining Length varint (left in
   * `remainingLength`). Returns the header's length, 0 if incomplete.
   */
  private readFixedHeader(data: Buffer, at: number): number {
    if (data.length - at < 2) return 0;
    let value = 0;
    for (let i = 1, multiplier = 1; i <= 4; i++, multiplier *= 128) {
      if (at + i >= data.length) return 0;
      const b = data[at + i]!;
      value += (b & 0x7f) * multiplier;
      if ((b & 0x80) === 0) {
        this.remainingLength = value;
        return i + 1;
      }
    }
    throw malformed('remaining length longer than 4 bytes');
  }
}
