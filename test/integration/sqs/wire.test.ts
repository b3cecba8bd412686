/**
 * The SQS door's HTTP framing as it leaves the socket (fetch and the SDKs hide it): every answer, result
 * or error, in either protocol, carries a Content-Length that matches its body and is not chunked, and
 * keep-alive sockets carry call after call.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { sqsPerSuite } from '../../helpers/sqs.js';
import { signGuestPost } from '../../helpers/sqs-sign.js';

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** Reads one HTTP/1.1 response framed by Content-Length (a chunked one fails the test: it has none). */
function readResponse(socket: Socket): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const length = headers.get('content-length');
      if (length === undefined) {
        socket.off('data', onData);
        return reject(new Error(`no Content-Length in ${JSON.stringify(buffered.subarray(0, end).toString('latin1'))}`));
      }
      if (buffered.length < end + 4 + Number(length)) return;
      socket.off('data', onData);
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body: buffered.subarray(end + 4, end + 4 + Number(length)) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

function post(socket: Socket, host: string, headers: Record<string, string>, body: string): Promise<RawResponse> {
  const bytes = Buffer.from(body);
  const signed = signGuestPost(host, { ...headers, 'content-length': String(bytes.length) }, bytes);
  const head = `POST / HTTP/1.1\r\n${Object.entries(signed).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const answer = readResponse(socket);
  socket.write(Buffer.concat([Buffer.from(head, 'latin1'), bytes]));
  return answer;
}

describe('SQS door HTTP framing', () => {
  const s = sqsPerSuite();

  it('answers results and errors of both protocols with a Content-Length, never chunked, on one keep-alive socket', async () => {
    const socket = connect(s.t.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    try {
      const host = `127.0.0.1:${s.t.port}`;
      const json = (action: string, input: object): Promise<RawResponse> => post(socket, host, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AmazonSQS.${action}` }, JSON.stringify(input));
      const created = await json('CreateQueue', { QueueName: 'wire-e' });
      assert.equal(created.status, 200, created.body.toString());
      const { QueueUrl } = JSON.parse(created.body.toString()) as { QueueUrl: string };
      // A body with multi-byte characters: the length counts bytes, not characters.
      const sent = await json('SendMessage', { QueueUrl, MessageBody: 'héllo wörld ✓' });
      assert.equal(sent.status, 200);
      const received = await json('ReceiveMessage', { QueueUrl });
      const { Messages } = JSON.parse(received.body.toString('utf8')) as { Messages: Array<{ Body: string }> };
      assert.equal(Messages[0]!.Body, 'héllo wörld ✓');
      const missing = await json('GetQueueUrl', { QueueName: 'no-such-queue' });
      assert.equal(missing.status, 400);
      assert.equal(missing.headers.get('x-amzn-query-error'), 'AWS.SimpleQueueService.NonExistentQueue;Sender');
      const query = await post(socket, host, { 'content-type': 'application/x-www-form-urlencoded' }, `Action=GetQueueUrl&QueueName=wire-e&Version=2012-11-05`);
      assert.equal(query.status, 200);
      assert.match(query.body.toString(), /<QueueUrl>http:\/\/.*\/wire-e<\/QueueUrl>/);
      const queryError = await post(socket, host, { 'content-type': 'application/x-www-form-urlencoded' }, `Action=GetQueueUrl&QueueName=nope&Version=2012-11-05`);
      assert.equal(queryError.status, 400);
      assert.match(queryError.body.toString(), /<Code>AWS.SimpleQueueService.NonExistentQueue<\/Code>/);
      for (const r of [created, sent, received, missing, query, queryError]) {
        assert.equal(r.headers.get('transfer-encoding'), undefined);
        assert.equal(Number(r.headers.get('content-length')), r.body.length);
      }
    } finally {
      socket.destroy();
    }
  });
});
