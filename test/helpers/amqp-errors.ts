import assert from 'node:assert/strict';
import { toAmqpError, type AmqpError } from '../../src/amqp/errors.js';

/**
 * The error a core call threw, as the AMQP door would send it (reply code and text), so that tests of
 * the core keep asserting exactly what a client sees. Anything that is not a broker error stays as it is.
 */
export function asAmqp(thrown: unknown): AmqpError | unknown {
  return toAmqpError(thrown) ?? thrown;
}

/** assert.throws on what the AMQP door would make of the error (`asAmqp`). */
export function amqpThrows(fn: () => unknown, expected?: Parameters<typeof assert.throws>[1], message?: string): void {
  const mapped = (): void => {
    try {
      fn();
    } catch (error) {
      throw asAmqp(error);
    }
  };
  if (expected === undefined) assert.throws(mapped, message);
  else assert.throws(mapped, expected as never, message);
}
