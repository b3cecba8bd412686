import type { Logger } from 'pino';
import { ConnectionError, ConnectionReplyCode, type ChannelError } from './errors.js';
import type { FrameWriter } from './codec/encode.js';
import type { Frame } from './codec/frames.js';
import type { ChannelLike } from './connection-types.js';
import { MethodId } from './spec/generated.js';

interface ChannelSlot {
  readonly channel: ChannelLike;
  /** We sent channel.close and wait for close-ok; every other frame is ignored (spec 2.3.5.2). */
  closing: boolean;
}

/** What the channel table needs of its connection. */
export interface ChannelTableHost {
  readonly writer: FrameWriter;
  scheduleFlush(): void;
  /** A new channel for channel.open. */
  createChannel(id: number): ChannelLike;
  /** A basic.publish is about to reach its channel (publisher flow may hold the socket). */
  beforePublish(): void;
}

/**
 * A connection's channels by number, with the channel open and close handshakes both ways (the
 * connection owns the table: channel.open/close/close-ok never reach a Channel).
 */
export class ChannelTable {
  private readonly slots = new Map<number, ChannelSlot>();

  constructor(
    private readonly host: ChannelTableHost,
    private readonly log: Logger,
  ) {}

  get size(): number {
    return this.slots.size;
  }

  has(id: number): boolean {
    return this.slots.has(id);
  }

  /** A frame on a channel other than 0, once the connection is open. */
  route(frame: Frame, channelMax: number): void {
    const slot = this.slots.get(frame.channel);
    if (slot === undefined) {
      this.open(frame, channelMax);
      return;
    }
    if (slot.closing) {
      this.onFrameForClosingChannel(frame);
      return;
    }
    if (frame.type === 1) {
      const id = frame.method.id;
      if (id === MethodId.BasicPublish) {
        this.host.beforePublish();
      } else if (id === MethodId.ChannelClose) {
        this.onClientClose(frame.channel, slot);
        return;
      } else if (id === MethodId.ChannelCloseOk) {
        return; // close-ok for a close we never sent: nothing to do
      } else if (id === MethodId.ChannelOpen) {
        throw new ConnectionError(ConnectionReplyCode.ChannelError, "second 'channel.open' seen");
      }
    }
    slot.channel.handleFrame(frame);
  }

  private open(frame: Frame, channelMax: number): void {
    const id = frame.channel;
    if (frame.type !== 1 || frame.method.id !== MethodId.ChannelOpen) {
      throw new ConnectionError(ConnectionReplyCode.ChannelError, `expected 'channel.open' on channel ${id}`);
    }
    if (id > channelMax) {
      throw new ConnectionError(
        ConnectionReplyCode.NotAllowed,
        `channel number ${id} is higher than the negotiated channel_max (${channelMax})`,
      );
    }
    const channel = this.host.createChannel(id);
    this.slots.set(id, { channel, closing: false });
    this.host.writer.writeMethod(id, { id: MethodId.ChannelOpenOk, args: { reserved1: '' } });
    this.host.scheduleFlush();
  }

  private onClientClose(id: number, slot: ChannelSlot): void {
    this.slots.delete(id);
    this.teardown(slot.channel);
    this.sendCloseOk(id);
  }

  /** After our channel.close only close-ok (done) or a crossing close (answer it) matter. */
  private onFrameForClosingChannel(frame: Frame): void {
    if (frame.type !== 1) return;
    const id = frame.method.id;
    if (id === MethodId.ChannelCloseOk) {
      this.slots.delete(frame.channel);
    } else if (id === MethodId.ChannelClose) {
      this.slots.delete(frame.channel);
      this.sendCloseOk(frame.channel);
    }
  }

  private sendCloseOk(id: number): void {
    this.host.writer.writeMethod(id, { id: MethodId.ChannelCloseOk, args: {} });
    this.host.scheduleFlush();
  }

  /** channel.close for a channel error; the channel is torn down now and its number freed on close-ok. */
  closeWithError(id: number, err: ChannelError, classId: number, methodId: number): void {
    const slot = this.slots.get(id);
    if (slot === undefined || slot.closing) return;
    this.log.debug({ channel: id, replyCode: err.replyCode, reason: err.message }, 'channel error');
    slot.closing = true;
    this.teardown(slot.channel);
    this.host.writer.writeMethod(id, {
      id: MethodId.ChannelClose,
      args: { replyCode: err.replyCode, replyText: err.replyText, classId, methodId },
    });
    this.host.scheduleFlush();
  }

  /** The socket has room again: every channel not being closed may deliver more. */
  resumeAll(onError: (id: number, err: unknown) => void): void {
    for (const [id, slot] of this.slots) {
      if (slot.closing) continue;
      try {
        slot.channel.resume();
      } catch (err) {
        onError(id, err);
      }
    }
  }

  teardownAll(): void {
    for (const slot of this.slots.values()) this.teardown(slot.channel);
    this.slots.clear();
  }

  private teardown(channel: ChannelLike): void {
    try {
      channel.teardown();
    } catch (err) {
      this.log.error({ err }, 'channel teardown failed');
    }
  }

  /** Channels by number, those being closed left out (for the management API's channel list). */
  openChannels(): [number, ChannelLike][] {
    const open: [number, ChannelLike][] = [];
    for (const [id, slot] of this.slots) if (!slot.closing) open.push([id, slot.channel]);
    return open;
  }
}
