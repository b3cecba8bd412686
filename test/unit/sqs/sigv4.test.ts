import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAuthorization, SigningKeyCache } from '../../../src/sqs/sigv4.js';
import { signGuestPost } from '../../helpers/sqs-sign.js';

const code = (error: unknown): string => (error as { code: string }).code;

test('SigV4: the signer\'s own signature verifies; any other signature (one digit off, cut short, upper case) is SignatureDoesNotMatch', () => {
  const body = Buffer.from('{"QueueName":"q"}');
  const headers = signGuestPost('127.0.0.1:9324', { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue' }, body);
  const keys = new SigningKeyCache();
  const verify = (authorization: string): void => parseAuthorization({ method: 'POST', url: '/', headers: { ...headers, authorization }, body }).verify('guest', Date.now(), keys);
  verify(headers['authorization']!);
  verify(headers['authorization']!); // the cached signing key
  const signature = /Signature=([0-9a-f]{64})$/.exec(headers['authorization']!)![1]!;
  const last = signature.at(-1) === '0' ? '1' : '0';
  for (const other of [`${signature.slice(0, -1)}${last}`, signature.slice(0, -2), signature.toUpperCase(), `${signature}0`]) {
    assert.throws(() => verify(headers['authorization']!.replace(signature, other)), (e) => code(e) === 'SignatureDoesNotMatch', other);
  }
  assert.throws(() => parseAuthorization({ method: 'POST', url: '/', headers, body }).verify('not-guest', Date.now(), keys), (e) => code(e) === 'SignatureDoesNotMatch', 'another secret');
  assert.throws(() => parseAuthorization({ method: 'POST', url: '/', headers, body: Buffer.from('{"QueueName":"r"}') }).verify('guest', Date.now(), keys), (e) => code(e) === 'SignatureDoesNotMatch', 'another body');
});
