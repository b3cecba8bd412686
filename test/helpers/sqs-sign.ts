import { createHash, createHmac } from 'node:crypto';

/**
 * SigV4 headers for a POST to '/' signed with guest/guest in us-east-1, for tests that talk to the SQS
 * door below the SDKs (the SDK tests prove the verifier agrees with the real signers).
 */
export function signGuestPost(host: string, headers: Record<string, string>, body: Buffer): Record<string, string> {
  const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const date = amzDate.slice(0, 8);
  const all: Record<string, string> = { ...headers, host, 'x-amz-date': amzDate };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(all).map(([k, v]) => [k.toLowerCase(), v]));
  const canonical = ['POST', '/', '', names.map((n) => `${n}:${lower[n]!.trim()}\n`).join(''), names.join(';'), createHash('sha256').update(body).digest('hex')].join('\n');
  const scope = `${date}/us-east-1/sqs/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key: Buffer = createHmac('sha256', 'AWS4guest').update(date).digest();
  for (const part of ['us-east-1', 'sqs', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=guest/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}
