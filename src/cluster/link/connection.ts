import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FrameBuilder, FrameReader, FrameSplitter, LINK_MAGIC, LinkProtocolError } from './codec.js';
import { Frame } from './frames.js';

/** Who is at the other end, once the handshake proved it knows the cluster secret. */
export interface PeerIdentity {
  readonly node: string;
  readonly incarnation: number;
}

export interface LinkConnectionOptions {
  readonly secret: string;
  readonly self: PeerIdentity;
  /** A peer silent this long (no frame, not even a ping) is dropped. */
  readonly silenceMs: number;
  readonly logger: Logger;
}

/**
 * One authenticated node-to-node connection, either side. The handshake is mutual: each side sends a
 * nonce and proves it knows the cluster secret (kept in PostgreSQL) with an HMAC over both nonces and
 * both names, so nothing that merely reaches the port can pose as a node. Then frames flow both ways;
 * pings keep a silent peer (paused, partitioned) from holding the link open forever.
 */
export class LinkConnection {
  private readonly splitter: FrameSplitter;
  private readonly nonce = randomBytes(16);
  private peerNonce: Buffer | undefined;
  private identity: PeerIdentity | undefined;
  private lastHeard = Date.now();
  private pingTimer: NodeJS.Timeout | undefined;
  private closedFlag = false;
  private frameHandler: ((type: number, frame: FrameReader) => void) | undefined;
  /**
   * Frames that came after the handshake before anyone listened: the peer may send its first requests
   * in the same packet as its handshake proof, and the listener is set only once `ready` has resolved.
   */
  private early: [number, FrameReader][] = [];
  private readonly readyPromise: Promise<PeerIdentity>;
  private resolveReady!: (peer: PeerIdentity) => void;
  private rejectReady!: (error: Error) => void;
  private readonly closeHandlers: ((error: Error | undefined) => void)[] = [];

  constructor(
    readonly socket: Socket,
    private readonly options: LinkConnectionOptions,
    /** The side that opened the connection sends the magic and speaks first. */
    private readonly initiator: boolean,
  ) {
    this.readyPromise = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.readyPromise.catch(() => undefined);
    this.splitter = new FrameSplitter((type, payload) => this.onFrame(type, payload), !initiator);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.close(error));
    socket.on('close', () => this.close(new Error('link closed')));
    if (initiator) {
      socket.write(LINK_MAGIC);
      this.write(new FrameBuilder(Frame.Hello).string(options.self.node).f64(options.self.incarnation).bytes(this.nonce).finish());
    }
  }

  /** Resolves with the peer once the handshake succeeded; rejects if the link fails first. */
  get ready(): Promise<PeerIdentity> {
    return this.readyPromise;
  }

  get peer(): PeerIdentity | undefined {
    return this.identity;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Socket has room (false above its high-water mark: senders of bulk data wait for 'drain'). */
  get writable(): boolean {
    return !this.closedFlag && !this.socket.writableNeedDrain;
  }

  onFrames(handler: (type: number, frame: FrameReader) => void): void {
    this.frameHandler = handler;
    const early = this.early;
    this.early = [];
    for (const [type, frame] of early) handler(type, frame);
  }

  onClose(handler: (error: Error | undefined) => void): void {
    if (this.closedFlag) handler(undefined);
    else this.closeHandlers.push(handler);
  }

  write(frame: Buffer): void {
    if (!this.closedFlag) this.socket.write(frame);
  }

  close(error?: Error): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    clearInterval(this.pingTimer);
    this.socket.destroy();
    this.rejectReady(error ?? new Error('link closed'));
    for (const handler of this.closeHandlers.splice(0)) handler(error);
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = Date.now();
    try {
      this.splitter.push(chunk);
    } catch (error) {
      this.options.logger.warn({ err: error }, `node link dropped: ${(error as Error).message}`);
      this.close(error as Error);
    }
  }

  private onFrame(type: number, payload: Buffer): void {
    const reader = new FrameReader(payload);
    if (this.identity === undefined) return this.handshake(type, reader);
    if (type === Frame.Ping) return;
    if (this.frameHandler === undefined) this.early.push([type, reader]);
    else this.frameHandler(type, reader);
  }

  /** HELLO (initiator) -> WELCOME with proof (acceptor) -> PROOF (initiator). */
  private handshake(type: number, reader: FrameReader): void {
    const self = this.options.self;
    if (!this.initiator && type === Frame.Hello) {
      const node = reader.string();
      const incarnation = reader.f64();
      this.peerNonce = Buffer.from(reader.bytes());
      this.pendingPeer = { node, incarnation };
      const proof = this.mac('acceptor', this.peerNonce, this.nonce, node, self.node);
      this.write(new FrameBuilder(Frame.Welcome).string(self.node).f64(self.incarnation).bytes(this.nonce).bytes(proof).finish());
      return;
    }
    if (this.initiator && type === Frame.Welcome) {
      const node = reader.string();
      const incarnation = reader.f64();
      const peerNonce = Buffer.from(reader.bytes());
      const proof = reader.bytes();
      if (!this.verify(proof, this.mac('acceptor', this.nonce, peerNonce, self.node, node))) {
        throw new LinkProtocolError('the peer does not know the cluster secret');
      }
      this.write(new FrameBuilder(Frame.Proof).bytes(this.mac('initiator', this.nonce, peerNonce, self.node, node)).finish());
      return this.established({ node, incarnation });
    }
    if (!this.initiator && type === Frame.Proof && this.pendingPeer !== undefined && this.peerNonce !== undefined) {
      const expected = this.mac('initiator', this.peerNonce, this.nonce, this.pendingPeer.node, self.node);
      if (!this.verify(reader.bytes(), expected)) throw new LinkProtocolError('the peer does not know the cluster secret');
      return this.established(this.pendingPeer);
    }
    throw new LinkProtocolError(`unexpected link frame ${type} during the handshake`);
  }

  private pendingPeer: PeerIdentity | undefined;

  private established(peer: PeerIdentity): void {
    this.identity = peer;
    this.pingTimer = setInterval(() => this.ping(), Math.max(100, Math.floor(this.options.silenceMs / 3)));
    this.pingTimer.unref();
    this.resolveReady(peer);
  }

  private ping(): void {
    if (Date.now() - this.lastHeard > this.options.silenceMs) {
      this.close(new Error(`node ${this.identity?.node ?? '?'} silent for ${this.options.silenceMs} ms`));
      return;
    }
    this.write(PING);
  }

  private mac(role: string, initiatorNonce: Buffer, acceptorNonce: Buffer, initiator: string, acceptor: string): Buffer {
    return createHmac('sha256', this.options.secret).update(role).update(initiatorNonce).update(acceptorNonce).update(initiator).update('\u0000').update(acceptor).digest();
  }

  private verify(given: Buffer, expected: Buffer): boolean {
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

const PING = new FrameBuilder(Frame.Ping, 0).finish();
