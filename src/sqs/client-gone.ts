import type { ServerResponse } from 'node:http';

/**
 * Tells a waiting call (a long poll) that its client went away: the response closed before it was
 * sent. One small object per request and a 'close' listener only while a call waits: an
 * AbortController per request, with its event target, cost more than the rest of a short request.
 * The listener's `waiting` set lets the door's close end every wait.
 */
export class ClientGone {
  /** The client went away (or the door closed) while the call waited. */
  gone = false;
  private then: (() => void) | undefined;
  private readonly onClose = (): void => {
    if (!this.response.writableFinished) this.fire();
  };

  constructor(
    private readonly response: ServerResponse,
    private readonly waiting: Set<ClientGone>,
  ) {}

  /** `then` runs once if the client goes away, or the door closes, before `stop()`. */
  watch(then: () => void): void {
    if (this.response.destroyed) {
      // Gone before the wait began (its 'close' has been emitted already).
      this.gone = true;
      then();
      return;
    }
    this.then = then;
    this.waiting.add(this);
    this.response.once('close', this.onClose);
  }

  stop(): void {
    if (this.then === undefined) return;
    this.then = undefined;
    this.waiting.delete(this);
    this.response.off('close', this.onClose);
  }

  fire(): void {
    const then = this.then;
    this.gone = true;
    this.stop();
    then?.();
  }
}
