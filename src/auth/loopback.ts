import { isIPv4 } from 'node:net';

/**
 * Whether a peer address is the local machine, as RabbitMQ's loopback_users rule sees it:
 * 127.0.0.0/8, ::1, and IPv4-mapped 127.x (::ffff:127.0.0.1, which is how Node reports IPv4 peers
 * on a dual-stack socket).
 */
export function isLoopbackAddress(address: string): boolean {
  const lower = address.toLowerCase();
  if (isIPv4(lower)) return lower.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1] !== undefined) return isIPv4(mapped[1]) && mapped[1].startsWith('127.');
  return isIPv6Loopback(lower);
}

/** ::1 in any of its spellings (0:0:0:0:0:0:0:1, ::0:1, ...). */
function isIPv6Loopback(address: string): boolean {
  if (!/^[0-9a-f:]+$/.test(address)) return false;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const head = halves[0] === '' || halves[0] === undefined ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' && halves[1] !== undefined ? halves[1].split(':') : [];
  const groups = halves.length === 2 ? [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  if (groups.length !== 8 || groups.some((group) => group.length === 0 || group.length > 4)) return false;
  return groups.every((group, index) => parseInt(group, 16) === (index === 7 ? 1 : 0));
}
