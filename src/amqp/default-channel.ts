import { Channel } from './channel.js';
import type { ChannelHost } from './channel/host.js';
import type { ChannelLike } from './connection.js';

/** The production channel factory: the channel layer's Channel. */
export function createChannel(id: number, host: ChannelHost): ChannelLike {
  return new Channel(id, host);
}
