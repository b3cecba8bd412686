/**
 * Bad bytes on a real STOMP socket: random garbage, truncated and lying frames, escapes in CONNECT,
 * commands before CONNECT. Each such client gets ERROR and a closed connection; a healthy stomp.js
 * client on the same broker keeps working throughout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { seededRandom } from '../../src/util/prng.js';
import { Inbox, startStompServer, stompjsClient, type StompServer } from '../integration/stomp/helpers.js';

let broker: StompServer;

before(async () => {
  broker = await startStompServer();
});

after(async () => {
  await broker.close();
});

/** Sends `bytes` on a fresh socket; resolves with everything the server wrote before it closed. */
function exchange(bytes: Buffer, halfClose = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(broker.stompPort, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`server did not close; got ${JSON.stringify(got)}`));
    }, 5000);
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    if (halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

const CONNECT = 'CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\n\n\0';

test('malformed input gets ERROR and a close, other clients unaffected', async () => {
  const healthy = await stompjsClient(broker.wsUrl);
  const inbox = new Inbox();
  healthy.subscribe('/queue/healthy', inbox.push);
  const random = seededRandom(0x51);
  const cases: Buffer[] = [
    Buffer.from('SEND\ndestination:/queue/a\n\nbefore connect\0'),
    Buffer.from(CONNECT + 'SEND\ndestination:/queue/a\ncontent-length:2\n\nlonger than two\0'),
    Buffer.from(CONNECT + 'SEND\ndestination:/queue/a\nbad\\tescape:x\n\n\0'),
    Buffer.from(CONNECT + 'FROB\n\n\0'),
    Buffer.from(CONNECT + 'SUBSCRIBE\ndestination:/queue/a\n\n\0'),
    Buffer.from(CONNECT + 'SEND\n' + 'h:'.padEnd(70_000, 'x') + '\n\n\0'),
    Buffer.from('CONNECT\naccept-version:9.9\n\n\0'),
  ];
  for (let i = 0; i < 40; i++) cases.push(Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))));
  for (const bytes of cases) {
    // Random bytes may end inside a frame the server still waits to complete: the client's half-close
    // ends it then; every reply that says anything is an ERROR.
    const reply = await exchange(Buffer.concat([bytes, Buffer.from('\n\0\0')]), cases.indexOf(bytes) >= 7);
    if (reply !== '') assert.match(reply, /ERROR\n/, JSON.stringify(reply.slice(0, 200)));
  }
  healthy.publish({ destination: '/queue/healthy', body: 'still fine' });
  assert.equal((await inbox.next()).body, 'still fine');
  await healthy.deactivate();
});

test('STOMP 1.2 over raw TCP: escaped headers on the wire, receipts, DISCONNECT receipt then close', async () => {
  const reply = await exchange(
    Buffer.from(
      CONNECT +
        'SUBSCRIBE\nid:0\ndestination:/queue/raw\nreceipt:s\n\n\0' +
        'SEND\ndestination:/queue/raw\nkey\\cwith:colon\\nline\n\nbody\0' +
        'DISCONNECT\nreceipt:bye\n\n\0',
    ),
  );
  assert.match(reply, /^CONNECTED\nversion:1.2\n/);
  assert.match(reply, /RECEIPT\nreceipt-id:s\n/);
  assert.match(reply, /MESSAGE\n[^\0]*key\\cwith:colon\\nline\n[^\0]*\n\nbody\0/);
  assert.match(reply, /RECEIPT\nreceipt-id:bye\n\n\0$/);
});

test('invalid UTF-8 in a destination gets ERROR; a frame cut short by the client closing is not sent; the broker serves on', async () => {
  const invalidUtf8 = Buffer.concat([Buffer.from(CONNECT + 'SEND\ndestination:/topic/a'), Buffer.from([0xc3, 0x28]), Buffer.from('\n\nx\0')]);
  const invalidReply = await exchange(invalidUtf8);
  assert.match(invalidReply, /^CONNECTED\n[\s\S]*ERROR\n[\s\S]*not valid UTF-8/, JSON.stringify(invalidReply.slice(0, 300)));
  // The client closes long before the 1000 bytes its header promised: the connection ends, nothing is routed.
  const truncated = await exchange(Buffer.from(CONNECT + 'SEND\ndestination:/queue/cut-short\ncontent-length:1000\nreceipt:r\n\nshort\0'), true);
  assert.doesNotMatch(truncated, /RECEIPT/);
  assert.equal(broker.server.broker.getVhost('/')?.getQueue('cut-short')?.readyCount() ?? 0, 0);
  const healthy = await stompjsClient(broker.wsUrl);
  const inbox = new Inbox();
  healthy.subscribe('/queue/after-bad-utf8', inbox.push);
  healthy.publish({ destination: '/queue/after-bad-utf8', body: 'fine' });
  assert.equal((await inbox.next()).body, 'fine');
  await healthy.deactivate();
});
