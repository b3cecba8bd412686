import type { Broker } from '../broker/broker.js';
import { FrameBuilder } from './link/codec.js';
import { Frame } from './link/frames.js';
import type { OwnerSession } from './link/owner-session.js';

/**
 * Every second or so, the figures of the queues this node owns go to every node linked here, so that
 * listings and publisher flow control on other nodes see the owner's counts (Stats frames).
 */
export class StatsBroadcast {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly sessions: () => Iterable<OwnerSession>,
    private readonly self: string,
    private readonly ownerOf: (vhost: string, name: string) => string,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.send(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private send(): void {
    const rows: [string, { ready: number; unacked: number; consumers: number; bytes: number }][] = [];
    for (const vhost of this.broker.vhosts.values()) {
      for (const queue of vhost.queues.values()) {
        if (queue.remoteOwner !== undefined || this.ownerOf(vhost.name, queue.name) !== this.self) continue;
        rows.push([JSON.stringify([vhost.name, queue.name]), { ready: queue.readyCount(), unacked: queue.unackedCount(), consumers: queue.consumerCount(), bytes: queue.readyBytes() }]);
      }
    }
    const frame = new FrameBuilder(Frame.Stats, 256).string(JSON.stringify(rows)).finish();
    for (const session of this.sessions()) session.send(frame);
  }
}
