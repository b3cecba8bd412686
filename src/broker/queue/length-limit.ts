import type { Overflow } from './queue-arguments.js';

/**
 * x-max-length / x-max-length-bytes (body bytes) over the ready entries only, as RabbitMQ counts.
 * drop-head: publish, then drop (dead-letter) the oldest while over the limit. reject-publish(-dlx):
 * refuse a message that would go over; the -dlx variant dead-letters the refused message.
 */
export class LengthLimit {
  readonly rejectsPublish: boolean;
  readonly deadLettersRefused: boolean;

  constructor(
    private readonly maxLength: number,
    private readonly maxBytes: number,
    overflow: Overflow,
  ) {
    this.rejectsPublish = overflow !== 'drop-head';
    this.deadLettersRefused = overflow === 'reject-publish-dlx';
  }

  /** Limits given as undefined mean "none". Returns undefined when neither is set. */
  static of(maxLength: number | undefined, maxBytes: number | undefined, overflow: Overflow): LengthLimit | undefined {
    if (maxLength === undefined && maxBytes === undefined) return undefined;
    return new LengthLimit(maxLength ?? Infinity, maxBytes ?? Infinity, overflow);
  }

  /** x-max-length-bytes is set: the queue must know the size of every ready message. */
  get limitsBytes(): boolean {
    return this.maxBytes !== Infinity;
  }

  wouldOverflow(readyCount: number, readyBytes: number, bodySize: number): boolean {
    return readyCount + 1 > this.maxLength || readyBytes + bodySize > this.maxBytes;
  }

  isOver(readyCount: number, readyBytes: number): boolean {
    return readyCount > this.maxLength || readyBytes > this.maxBytes;
  }
}
