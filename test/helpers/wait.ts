/** Waiting in tests: liveness guards that fail after a generous timeout, never timing assertions. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `condition` holds; fails after `timeoutMs` naming `what` it waited for. The condition may
 * be asynchronous (an HTTP call); it is then polled every 100 ms instead of every 5.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const result = condition();
    const ok = typeof result === 'boolean' ? result : await result.catch(() => false);
    if (ok) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(typeof result === 'boolean' ? 5 : 100);
  }
}
