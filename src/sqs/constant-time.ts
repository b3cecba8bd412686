/**
 * Whether two strings are equal, in a time that tells nothing of how much of a guessed handle was
 * right (as crypto's timingSafeEqual, without two Buffers per call): receipt handles and SigV4
 * signatures. The length is not secret.
 */
export function sameInConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}
