import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** What the server's config allows push endpoints to be (README "Push queues": safe by default). */
export interface PushSafety {
  /** Allow http:// endpoints (default: https only). */
  allowHttp: boolean;
  /** Host names or addresses allowed even if private, loopback or link-local. */
  allowHosts: readonly string[];
}

// Loopback, private (RFC 1918, RFC 4193), link-local (RFC 3927, RFC 4291), CGNAT, unspecified.
const PRIVATE = new BlockList();
for (const [net, prefix] of [['127.0.0.0', 8], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['169.254.0.0', 16], ['100.64.0.0', 10], ['0.0.0.0', 8]] as const) {
  PRIVATE.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [['::1', 128], ['fc00::', 7], ['fe80::', 10], ['::', 128]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

function isPrivate(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return isIP(mapped) === 4 ? PRIVATE.check(mapped, 'ipv4') : PRIVATE.check(address, 'ipv6');
}

/** Why an endpoint may not be called, or undefined when it may. Resolves the host name to check its addresses. */
export async function endpointRefusal(url: URL, safety: PushSafety): Promise<string | undefined> {
  if (url.protocol === 'http:' && !safety.allowHttp) return 'http endpoints are not allowed (push.allowHttp)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (safety.allowHosts.includes(host)) return undefined;
  const addresses = isIP(host) !== 0 ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((a) => a.address);
  if (addresses.length === 0) return `cannot resolve ${host}`;
  const blocked = addresses.find(isPrivate);
  return blocked === undefined ? undefined : `${host} is a private, loopback or link-local address (${blocked}); allow it with push.allowHosts`;
}
