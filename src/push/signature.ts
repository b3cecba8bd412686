import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signing (standardwebhooks.com spec, "Signature scheme"): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, HMAC-SHA256 with the secret's bytes, sent as
 * `webhook-signature: v1,<base64>`. A secret written `whsec_<base64>` is the base64 of the key (the
 * spec's format); any other string is used as UTF-8 bytes.
 */
export function secretBytes(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
}

export function signWebhook(secret: string, id: string, timestampSeconds: number, body: Buffer): string {
  const mac = createHmac('sha256', secretBytes(secret));
  mac.update(`${id}.${timestampSeconds}.`);
  mac.update(body);
  return `v1,${mac.digest('base64')}`;
}
