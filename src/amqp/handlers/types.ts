import type { MethodArgs, MethodId } from '../spec/generated.js';
import type { Channel } from '../channel.js';

/** Handles one method sent by the client on an open channel. Errors are thrown (src/broker/errors.ts). */
export type MethodHandler<K extends MethodId> = (channel: Channel, args: MethodArgs[K]) => void;

/** One AMQP class's handlers, keyed by method id. */
export type HandlerTable = { [K in MethodId]?: MethodHandler<K> };
