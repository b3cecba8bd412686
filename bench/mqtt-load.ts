/**
 * A minimal MQTT 3.1.1 load client for bench/mqtt.ts: raw TCP, hand-encoded packets, a scanning
 * reader that only looks at fixed headers (and, for PUBLISH, the packet id and the first 8 payload
 * bytes). It is written separately from Warren's codec so a codec bug cannot hide in both sides, and
 * it is cheap enough per message that one process can drive a broker harder than MQTT.js can (which
 * capped both Warren and mosquitto at ~10k msg/s).
 */
import { connect, type Socket } from 'node:net';

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function packet(byte: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([byte, ...remainingLength(body.length)]), body]);
}

/** PUBLISH bytes (QoS 0 has no packet id); the id can be patched in later at `idOffset`. */
export function encodePublish(topic: string, payload: Buffer, qos: 0 | 1, packetId = 1): { bytes: Buffer; idOffset: number } {
  const t = str(topic);
  const id = qos > 0 ? Buffer.from([packetId >> 8, packetId & 0xff]) : Buffer.alloc(0);
  const bytes = packet(0x30 | (qos << 1), Buffer.concat([t, id, payload]));
  return { bytes, idOffset: bytes.length - payload.length - id.length };
}

export interface LoadHandlers {
  /** A PUBLISH arrived: its first 8 payload bytes as a double (the sender's timestamp), when present. */
  message?(stamp: number): void;
  puback?(packetId: number): void;
}

export class LoadClient {
  private pending: Buffer | undefined;
  private waiters: Array<{ type: number; resolve: (body: Buffer) => void }> = [];
  handlers: LoadHandlers = {};
  received = 0;
  /** Answer QoS 1 deliveries with PUBACK (batched per data event). */
  private acks: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
  }

  static async open(port: number, clientId: string, options: { username?: string; password?: string; clean?: boolean; keepAlive?: number } = {}): Promise<LoadClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail));
    const c = new LoadClient(socket);
    let flags = options.clean === false ? 0 : 0x02;
    const parts = [str('MQTT'), Buffer.from([4]), Buffer.alloc(1), Buffer.from([0, options.keepAlive ?? 0]), str(clientId)];
    if (options.username !== undefined) {
      flags |= 0x80;
      parts.push(str(options.username));
    }
    if (options.password !== undefined) {
      flags |= 0x40;
      parts.push(str(options.password));
    }
    parts[2] = Buffer.from([flags]);
    const ack = c.expect(0x20);
    socket.write(packet(0x10, Buffer.concat(parts)));
    const body = await ack;
    if (body[1] !== 0) throw new Error(`CONNACK return code ${body[1]}`);
    return c;
  }

  private expect(typeByte: number): Promise<Buffer> {
    return new Promise((resolve) => this.waiters.push({ type: typeByte >> 4, resolve }));
  }

  async subscribe(filter: string, qos: 0 | 1): Promise<void> {
    const ack = this.expect(0x90);
    this.socket.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(filter), Buffer.from([qos])])));
    const body = await ack;
    if ((body[2] ?? 0x80) >= 0x80) throw new Error(`SUBACK refused ${filter}`);
  }

  write(bytes: Buffer): boolean {
    return this.socket.write(bytes);
  }

  end(): Promise<void> {
    return new Promise((ok) => {
      if (this.socket.destroyed) return ok();
      this.socket.once('close', () => ok());
      this.socket.end(Buffer.from([0xe0, 0]));
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  private onData(chunk: Buffer): void {
    let data = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    this.pending = undefined;
    let at = 0;
    for (;;) {
      if (data.length - at < 2) break;
      let len = 0;
      let i = at + 1;
      let mult = 1;
      let complete = false;
      for (; i < data.length && i < at + 5; i++, mult *= 128) {
        const b = data[i]!;
        len += (b & 0x7f) * mult;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete || data.length < i + len) break;
      this.onPacket(data[at]!, data, i, len);
      at = i + len;
    }
    if (at < data.length) this.pending = Buffer.from(data.subarray(at));
    if (this.acks.length > 0) {
      this.socket.write(this.acks.length === 1 ? this.acks[0]! : Buffer.concat(this.acks));
      this.acks = [];
    }
  }

  private onPacket(byte: number, data: Buffer, start: number, len: number): void {
    const type = byte >> 4;
    if (type === 3) {
      this.received++;
      const qos = (byte >> 1) & 3;
      const topicLength = data.readUInt16BE(start);
      let p = start + 2 + topicLength;
      if (qos > 0) {
        this.acks.push(Buffer.from([0x40, 2, data[p]!, data[p + 1]!]));
        p += 2;
      }
      const handler = this.handlers.message;
      if (handler !== undefined) handler(start + len - p >= 8 ? data.readDoubleLE(p) : NaN);
      return;
    }
    if (type === 4) return this.handlers.puback?.(data.readUInt16BE(start));
    const index = this.waiters.findIndex((w) => w.type === type);
    if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(Buffer.from(data.subarray(start, start + len)));
  }
}
