import { preconditionFailed } from '../../broker/errors.js';
import { MethodId, type ConfirmSelect } from '../spec/generated.js';
import type { Channel } from '../channel.js';
import { PublisherConfirms } from '../../session/confirms.js';
import type { HandlerTable } from './types.js';

function select(ch: Channel, a: ConfirmSelect): void {
  if (ch.tx !== undefined) throw preconditionFailed('cannot switch from tx to confirm mode');
  ch.confirms ??= new PublisherConfirms(ch.host.broker, ch);
  if (!a.nowait) ch.send({ id: MethodId.ConfirmSelectOk, args: {} });
}

export const confirmHandlers: HandlerTable = {
  [MethodId.ConfirmSelect]: select,
};
