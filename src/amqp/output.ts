import type { Socket } from 'node:net';
import { FrameWriter } from './codec/encode.js';

/**
 * A connection's outgoing side: frames are appended to one FrameWriter and go to the socket once per
 * tick (setImmediate), so everything a tick produced for this client is a single write (or one corked
 * writev when large bodies were appended by reference).
 */
export class SocketOutput {
  readonly writer = new FrameWriter();
  bytesOut = 0;
  private flushScheduled = false;
  /** writable() said no; the owner wants to hear when the socket has room again. */
  private waitingForRoom = false;

  constructor(
    private readonly socket: Socket,
    /** Bytes queued in the socket plus not yet flushed above which writable() turns false. */
    private readonly highWaterMark: number,
    /** The socket has room again after writable() returned false. */
    private readonly onRoom: () => void,
  ) {
    socket.on('drain', () => this.announceRoom());
  }

  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTick);
  }

  writable(): boolean {
    if (this.socket.writableLength + this.writer.length < this.highWaterMark) return true;
    this.waitingForRoom = true;
    return false;
  }

  /** Writes everything appended so far, now. */
  flush(): void {
    const length = this.writer.length;
    if (length === 0) return;
    const parts = this.writer.takeChunks();
    const socket = this.socket;
    if (socket.destroyed || !socket.writable) return;
    this.bytesOut += length;
    if (parts.length === 1) {
      socket.write(parts[0]!);
      return;
    }
    socket.cork();
    for (const part of parts) socket.write(part);
    socket.uncork();
  }

  private readonly flushTick = (): void => {
    this.flushScheduled = false;
    this.flush();
    // The kernel may take a big write whole, in which case no 'drain' follows.
    if (this.waitingForRoom && this.socket.writableLength < this.highWaterMark) this.announceRoom();
  };

  private announceRoom(): void {
    if (!this.waitingForRoom) return;
    this.waitingForRoom = false;
    this.onRoom();
  }
}
