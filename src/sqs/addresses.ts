import { invalidParameter, sqsError } from './errors.js';

/** Which account a vhost is and back (config sqs.accounts); the region ARNs name. */
export interface AccountMap {
  readonly region: string;
  /** account id (12 digits) -> vhost */
  readonly accounts: ReadonlyMap<string, string>;
}

export interface QueueAddress {
  readonly account: string;
  readonly vhost: string;
  readonly name: string;
}

/** Queue names: 1-80 characters of A-Z a-z 0-9 - _, FIFO queues ending in .fifo (API reference, CreateQueue). */
export function checkQueueName(name: string): { fifo: boolean } {
  const fifo = name.endsWith('.fifo');
  const base = fifo ? name.slice(0, -5) : name;
  if (name.length > 80 || base.length === 0 || !/^[A-Za-z0-9_-]+$/.test(base)) {
    throw invalidParameter('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
  }
  return { fifo };
}

export function accountOf(map: AccountMap, vhost: string): string | undefined {
  for (const [account, v] of map.accounts) if (v === vhost) return account;
  return undefined;
}

/** `http://HOST:PORT/ACCOUNT/NAME`, with the host and port the request came to (the JS SDK sends each call there). */
export function queueUrl(scheme: string, host: string, address: { account: string; name: string }): string {
  return `${scheme}://${host}/${address.account}/${encodeURIComponent(address.name)}`;
}

export function queueArn(map: AccountMap, account: string, name: string): string {
  return `arn:aws:sqs:${map.region}:${account}:${name}`;
}

/** http(s)://host[:port]/path with nothing URL parsing would change (no backslashes, dots, query or fragment). */
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+(\/[A-Za-z0-9_%-]*\/[A-Za-z0-9_.%-]*)$/;

/**
 * The queue a QueueUrl names: its path is /ACCOUNT/NAME (the host part is not checked: clients reach
 * Warren under many names). A bare queue name is refused as AWS does.
 */
export function parseQueueUrl(map: AccountMap, url: unknown): QueueAddress {
  if (typeof url !== 'string' || url === '') throw sqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
  let path: string;
  const plain = PLAIN_URL.exec(url);
  if (url.startsWith('/')) path = url;
  else if (plain !== null) path = plain[1] ?? '/'; // the common shape, without building a URL object per request
  else {
    try {
      path = new URL(url).pathname;
    } catch {
      throw sqsError('InvalidAddress', 'The address ' + url + ' is not valid for this endpoint.');
    }
  }
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.length !== 2) throw sqsError('InvalidAddress', 'The address ' + url + ' is not valid for this endpoint.');
  const [account, rawName] = parts as [string, string];
  let name: string;
  try {
    name = decodeURIComponent(rawName);
  } catch {
    throw sqsError('InvalidAddress', 'The address ' + url + ' is not valid for this endpoint.');
  }
  const vhost = map.accounts.get(account);
  if (vhost === undefined) throw sqsError('QueueDoesNotExist', 'The specified queue does not exist.');
  return { account, vhost, name };
}

/** An SQS queue ARN in this region: arn:aws:sqs:REGION:ACCOUNT:NAME. */
export function parseQueueArn(map: AccountMap, arn: string): QueueAddress | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs') return undefined;
  const account = parts[4]!;
  const vhost = map.accounts.get(account);
  if (vhost === undefined || parts[3] !== map.region) return undefined;
  return { account, vhost, name: parts[5]! };
}
