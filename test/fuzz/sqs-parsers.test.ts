/**
 * Fuzzing the SQS door's request parsers: random and mutated JSON bodies, query forms, message
 * attributes and Authorization headers must only ever produce an SqsError (a clear SQS error), never
 * another exception; and over HTTP, signed garbage of every kind gets a 4xx answer in the caller's
 * protocol while the door keeps serving normal calls. Seeded; set CODEC_SEED to replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqsError } from '../../src/sqs/errors.js';
import { decodeJsonRequest } from '../../src/sqs/protocol/json.js';
import { decodeQueryRequest } from '../../src/sqs/protocol/query.js';
import { readMessageAttributes } from '../../src/sqs/message-attributes.js';
import { parseAuthorization } from '../../src/sqs/sigv4.js';
import { validateAttributes } from '../../src/sqs/queue-attributes.js';
import { parseQueueUrl } from '../../src/sqs/addresses.js';
import { int, pick, randomBytes, randomString, testSeed, withSeed, type Rng } from '../unit/codec/random.js';
import { startSqs } from '../helpers/sqs.js';
import { signGuestPost } from '../helpers/sqs-sign.js';
import { ACTIONS } from '../../src/sqs/actions/index.js';

const MEMBERS = ['QueueUrl', 'QueueName', 'MessageBody', 'Attributes', 'MessageAttributes', 'Entries', 'ReceiptHandle', 'VisibilityTimeout', 'MaxNumberOfMessages', 'WaitTimeSeconds', 'DelaySeconds', 'Tags', 'TagKeys', 'AttributeNames', 'MessageGroupId', 'MessageDeduplicationId', 'NextToken', 'MaxResults'];

function randomJson(rng: Rng, depth = 0): unknown {
  switch (int(rng, 0, depth > 2 ? 4 : 6)) {
    case 0: return null;
    case 1: return int(rng, -1e6, 1e6);
    case 2: return randomString(rng, 40);
    case 3: return rng() < 0.5;
    case 4: return pick(rng, ['', 'All', 'String', 'Number', 'Binary', '-1', '99999999999', 'http://x/000000000000/q', 'fuzz', 'AAAA']);
    case 5: return Array.from({ length: int(rng, 0, 4) }, () => randomJson(rng, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = int(rng, 0, 5); i > 0; i--) o[rng() < 0.6 ? pick(rng, [...MEMBERS, 'DataType', 'StringValue', 'BinaryValue', 'Id']) : randomString(rng, 10)] = randomJson(rng, depth + 1);
      return o;
    }
  }
}

function randomForm(rng: Rng): string {
  const parts: string[] = [`Action=${pick(rng, [...ACTIONS.keys(), 'Bogus', ''])}`];
  for (let i = int(rng, 0, 8); i > 0; i--) {
    const key = pick(rng, ['QueueUrl', 'Attribute.1.Name', 'Attribute.1.Value', 'MessageAttribute.1.Value.DataType', 'MessageAttribute.x.Name', 'SendMessageBatchRequestEntry.1.Id', 'Tag.0.Key', 'a.b.c', 'Attribute', 'Attribute.1', '%ZZ', randomString(rng, 8)]);
    parts.push(`${encodeURIComponent(key)}=${rng() < 0.2 ? '%E0%A4%A' : encodeURIComponent(randomString(rng, 20))}`);
  }
  return parts.join('&');
}

function onlySqsErrors(what: string, run: () => unknown): void {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof SqsError, `${what} threw ${String(error)}`);
  }
}

test('request parsers answer any input with a result or an SqsError', () => {
  withSeed(testSeed(), (rng) => {
    for (let i = 0; i < 3000; i++) {
      onlySqsErrors('decodeJsonRequest(random bytes)', () => decodeJsonRequest(`AmazonSQS.${pick(rng, [...ACTIONS.keys()])}`, randomBytes(rng, 200)));
      onlySqsErrors('decodeJsonRequest(random json)', () => decodeJsonRequest(pick(rng, ['AmazonSQS.SendMessage', 'AmazonSQS.', 'Other.X', '']), Buffer.from(JSON.stringify(randomJson(rng)))));
      onlySqsErrors('decodeQueryRequest(random form)', () => decodeQueryRequest(Buffer.from(randomForm(rng))));
      onlySqsErrors('decodeQueryRequest(random bytes)', () => decodeQueryRequest(randomBytes(rng, 200)));
      onlySqsErrors('readMessageAttributes', () => readMessageAttributes(randomJson(rng)));
      onlySqsErrors('validateAttributes', () => validateAttributes(randomJson(rng), rng() < 0.5, rng() < 0.5));
      onlySqsErrors('parseQueueUrl', () => {
        const url = pick(rng, ['http://127.0.0.1:9324/000000000000/q', 'https://h/000000000000/a.fifo', '/000000000000/q', 'http://[::1]:1/000000000000/%41']);
        const chars = [...url];
        for (let i = int(rng, 0, 4); i > 0; i--) chars.splice(int(rng, 0, chars.length), int(rng, 0, 2), randomString(rng, 3));
        parseQueueUrl({ region: 'us-east-1', accounts: new Map([['000000000000', '/']]) }, rng() < 0.1 ? randomJson(rng) : chars.join(''));
      });
      onlySqsErrors('parseAuthorization', () =>
        parseAuthorization({
          method: 'POST',
          url: '/',
          headers: { authorization: pick(rng, [randomString(rng, 80), `AWS4-HMAC-SHA256 ${randomString(rng, 60)}`, 'AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request, SignedHeaders=host, Signature=00']), 'x-amz-date': pick(rng, ['20250101T000000Z', randomString(rng, 16)]) },
          body: Buffer.alloc(0),
        }).verify('secret'),
      );
    }
  });
});

test('signed garbage over HTTP gets a 4xx SQS error in its protocol; the door keeps working', { timeout: 60_000 }, async () => {
  const t = await startSqs();
  try {
    const host = `127.0.0.1:${t.port}`;
    const post = async (headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string; headers: Headers }> => {
      const response = await fetch(`${t.endpoint}/`, { method: 'POST', headers: signGuestPost(host, headers, body), body });
      return { status: response.status, text: await response.text(), headers: response.headers };
    };
    const json = (action: string, body: Buffer) => post({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` }, body);
    const form = (body: Buffer) => post({ 'content-type': 'application/x-www-form-urlencoded' }, body);
    const created = await json('CreateQueue', Buffer.from(JSON.stringify({ QueueName: 'fuzz' })));
    assert.equal(created.status, 200, created.text);
    const seed = testSeed();
    const rng = (() => {
      let r: Rng | undefined;
      withSeed(seed, (x) => (r = x));
      return r!;
    })();
    for (let i = 0; i < 300; i++) {
      const kind = int(rng, 0, 3);
      const response =
        kind === 0
          ? await json(pick(rng, [...ACTIONS.keys()]), Buffer.from(JSON.stringify(randomJson(rng))))
          : kind === 1
            ? await json(pick(rng, [...ACTIONS.keys()]), randomBytes(rng, 100))
            : await form(Buffer.from(randomForm(rng)));
      assert.ok(response.status < 500, `[CODEC_SEED=${seed}] request ${i} got ${response.status}: ${response.text}`);
      if (response.status >= 400) {
        if (kind < 2) {
          assert.match(response.headers.get('x-amzn-query-error') ?? '', /^[A-Za-z.]+;(Sender|Receiver)$/);
          assert.ok(typeof (JSON.parse(response.text) as { __type?: unknown }).__type === 'string');
        } else {
          assert.match(response.text, /^<\?xml version="1.0"\?><ErrorResponse .*<Code>[A-Za-z.]+<\/Code>/);
        }
      }
    }
    const huge = await json('SendMessage', Buffer.alloc(5 * 1024 * 1024, 0x61));
    assert.ok(huge.status >= 400 && huge.status < 500, `huge body: ${huge.status}`);
    const badUtf8 = await json('SendMessage', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]));
    assert.equal(badUtf8.status, 400);
    const unknownType = await json('SendMessage', Buffer.from(JSON.stringify({ QueueUrl: '/000000000000/fuzz', MessageBody: 'x', MessageAttributes: { a: { DataType: 'Weird', StringValue: 'v' } } })));
    assert.equal(unknownType.status, 400);
    assert.match(unknownType.headers.get('x-amzn-query-error') ?? '', /^InvalidParameterValue;Sender$/);
    // Nothing else was harmed: a normal send and receive still work.
    const sent = await json('SendMessage', Buffer.from(JSON.stringify({ QueueUrl: '/000000000000/fuzz', MessageBody: 'still here' })));
    assert.equal(sent.status, 200, sent.text);
    const received = await json('ReceiveMessage', Buffer.from(JSON.stringify({ QueueUrl: '/000000000000/fuzz', MaxNumberOfMessages: 10 })));
    assert.ok(received.text.includes('still here'), received.text);
  } finally {
    await t.close();
  }
});
