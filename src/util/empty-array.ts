/**
 * Empties a reused scratch array in place. `array.length = 0` goes through V8's runtime (the length
 * setter) and gives the backing store back, so the next push allocates it again: 60-190 ns per reset
 * against 10-20 ns for popping a few elements (measured on Node 20). Per-message scratch arrays (routing,
 * acks, confirms) hold one or a few elements, so popping is the cheap way; the kept backing store is as
 * large as the array's largest use.
 */
export function emptyArray(array: unknown[]): void {
  while (array.length > 0) array.pop();
}
