/** A bare MQTT client on Warren's own codec, for what real clients cannot be made to send (bad packets, exact ids). */
import { connect, type Socket } from 'node:net';
import { encodePacket, MqttParser, type Packet, type ProtocolLevel } from '../../../src/mqtt/codec/index.js';
import { waitFor } from '../../helpers/wait.js';

/** The packet kinds whose `type` may be T (AckPacket covers four types). */
type PacketOf<T extends Packet['type'], P = Packet> = P extends Packet ? (T extends P['type'] ? P : never) : never;

export class RawClient {
  readonly received: Packet[] = [];
  closed = false;
  private readonly parser = new MqttParser({ maxPacketSize: 1 << 24 });

  private constructor(readonly socket: Socket, readonly level: ProtocolLevel) {
    this.parser.level = level;
    socket.on('data', (chunk) => {
      try {
        this.parser.push(chunk, (p) => this.received.push(p));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }

  static async open(port: number, level: ProtocolLevel): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket, level);
  }

  send(packet: Packet): void {
    this.socket.write(encodePacket(packet, this.level));
  }

  sendBytes(bytes: Buffer | number[]): void {
    this.socket.write(Buffer.from(bytes));
  }

  async connect(clientId: string, extra: Partial<Extract<Packet, { type: 'connect' }>> = {}): Promise<PacketOf<'connack'>> {
    this.send({ type: 'connect', protocolName: 'MQTT', protocolLevel: this.level, cleanStart: true, keepAlive: 0, clientId, will: undefined, username: undefined, password: undefined, properties: {}, ...extra });
    return this.next('connack');
  }

  async next<T extends Packet['type']>(type: T): Promise<PacketOf<T>> {
    let found: Packet | undefined;
    await waitFor(() => {
      const i = this.received.findIndex((p) => p.type === type);
      if (i >= 0) found = this.received.splice(i, 1)[0];
      return found !== undefined || this.closed;
    }, `a ${type} packet`, 5000);
    if (found === undefined) throw new Error(`connection closed before a ${type} packet`);
    return found as PacketOf<T>;
  }

  async waitClosed(): Promise<void> {
    await waitFor(() => this.closed, 'the broker to close the connection', 5000);
  }

  end(): void {
    this.socket.destroy();
  }
}
