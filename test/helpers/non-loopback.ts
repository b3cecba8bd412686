import { networkInterfaces } from 'node:os';

/**
 * An IPv4 address of this machine that is not loopback, to connect from "another host" as far as the
 * broker's loopback rule can tell (the peer address of a connection to it is that address too);
 * undefined on a machine with loopback only.
 */
export function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found !== undefined) return found.address;
  }
  return undefined;
}
