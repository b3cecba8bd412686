import { createHmac } from 'node:crypto';
import { digestHex } from './digest.js';
import { sqsError } from './errors.js';
import { sameInConstantTime } from './constant-time.js';

/** How far a request's X-Amz-Date may be from the broker's clock (AWS allows 5 minutes; SigV4 docs). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SignedRequest {
  method: string;
  /** Path and query as received (still percent-encoded). */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

export interface SignatureClaim {
  accessKeyId: string;
  /** Checks the signature against the key's secret; throws SignatureDoesNotMatch / RequestExpired. */
  verify(secret: string, now?: number, keys?: SigningKeyCache): void;
}

/**
 * Derived signing keys (HMAC chain over the secret, day, region and service): the same for every
 * request of a key on one day, so a door keeps them instead of computing four HMACs per request.
 * Bounded: when full it starts over (a day's keys are few; an attacker's made-up scopes cannot grow it).
 */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly limit = 1024) {}

  get(secret: string, date: string, region: string, service: string): Buffer {
    const id = `${date}\n${region}\n${service}\n${secret}`;
    let key = this.keys.get(id);
    if (key === undefined) {
      key = signingKey(secret, date, region, service);
      if (this.keys.size >= this.limit) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }
}

function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

/**
 * Parses an `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` header
 * (AWS Signature Version 4, "Create a signed AWS API request"). The key id is known before the
 * secret is looked up; `verify` then rebuilds the canonical request and compares signatures.
 */
export function parseAuthorization(request: SignedRequest): SignatureClaim {
  const header = single(request.headers['authorization']);
  if (header === undefined) throw sqsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
  if (!header.startsWith(`${ALGORITHM} `)) throw sqsError('IncompleteSignature', `Unsupported authorization type; only ${ALGORITHM} is accepted.`);
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw sqsError('IncompleteSignature', 'Authorization header requires Credential, SignedHeaders and Signature.');
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') throw sqsError('IncompleteSignature', `Credential should be scoped to a valid region: ${credential}`);
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  const amzDate = single(request.headers['x-amz-date']);
  if (amzDate === undefined || !/^\d{8}T\d{6}Z$/.test(amzDate)) throw sqsError('IncompleteSignature', 'Authorization requires an X-Amz-Date header.');
  return {
    accessKeyId,
    verify(secret, now = Date.now(), keys) {
      const at = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
      if (Math.abs(now - at) > MAX_CLOCK_SKEW_MS) {
        throw sqsError('RequestExpired', `Request has expired: signed at ${amzDate}, more than 5 minutes from the server time.`);
      }
      const canonical = canonicalRequest(request, signedHeaders);
      const stringToSign = `${ALGORITHM}\n${amzDate}\n${date}/${region}/${service}/aws4_request\n${sha256Hex(canonical)}`;
      const key = keys === undefined ? signingKey(secret, date, region, service) : keys.get(secret, date, region, service);
      const expected = createHmac('sha256', key).update(stringToSign).digest('hex');
      if (!sameInConstantTime(signature, expected)) {
        throw sqsError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
      }
    },
  };
}

const INNER_WHITESPACE = /\s\s|[\t\n\r\f\v]/;

function canonicalRequest(request: SignedRequest, signedHeaders: string): string {
  const q = request.url.indexOf('?');
  const path = q < 0 ? request.url : request.url.slice(0, q);
  const query = q < 0 ? '' : request.url.slice(q + 1);
  let headerLines = '';
  for (const name of signedHeaders.split(';')) {
    const value = request.headers[name];
    const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
    // Sequential spaces become one (SigV4 canonical headers); most values have none, so test first.
    headerLines += `${name}:${INNER_WHITESPACE.test(joined) ? joined.trim().replace(/\s+/g, ' ') : joined.trim()}\n`;
  }
  // A signed x-amz-content-sha256 must be the body's hash: otherwise a body could be swapped under a valid signature.
  const payload = sha256Hex(request.body);
  const claimed = single(request.headers['x-amz-content-sha256']);
  if (claimed !== undefined && claimed !== payload) {
    throw sqsError('SignatureDoesNotMatch', 'The x-amz-content-sha256 header does not match the request body.');
  }
  return `${request.method}\n${canonicalUri(path)}\n${canonicalQuery(query)}\n${headerLines}\n${signedHeaders}\n${payload}`;
}

/** Each segment encoded once more, as SigV4 does for every service but S3. */
function canonicalUri(path: string): string {
  if (path === '' || path === '/') return '/';
  return path.split('/').map(encodeRfc3986).join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs = query.split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    const v = eq < 0 ? '' : pair.slice(eq + 1);
    return [encodeRfc3986(safeDecode(k)), encodeRfc3986(safeDecode(v))] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string | Buffer): string {
  return digestHex('sha256', data);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
