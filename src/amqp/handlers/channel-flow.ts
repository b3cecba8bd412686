import { MethodId, type ChannelFlow } from '../spec/generated.js';
import type { Channel } from '../channel.js';
import type { HandlerTable } from './types.js';

/** channel.flow from the client: active=false pauses deliveries to this channel's consumers. */
function flow(ch: Channel, a: ChannelFlow): void {
  ch.flowActive = a.active;
  ch.send({ id: MethodId.ChannelFlowOk, args: { active: a.active } });
  if (a.active) ch.resumeAllConsumers();
}

export const channelFlowHandlers: HandlerTable = {
  [MethodId.ChannelFlow]: flow,
  // The answer to a server-sent channel.flow; Warren never sends one, so nothing waits for it.
  [MethodId.ChannelFlowOk]: () => {},
};
