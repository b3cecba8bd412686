import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { MethodId, type MethodArgs } from '../../../src/amqp/spec/generated.js';
import { SERVER_CAPABILITIES } from '../../../src/amqp/server-properties.js';
import { WARREN_VERSION } from '../../../src/version.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient, type RawHandshakeOptions } from './connection-raw-client.js';

describe('AMQP connection handshake', () => {
  let server: TestBroker;
  before(async () => {
    server = await startBroker();
    server.broker.addVhost('other');
    server.users.addUser('bob', 'secret');
    server.users.setPermissions('bob', '/', { configure: '.*', write: '.*', read: '.*' });
  });
  after(() => server.close());

  it('lets amqplib connect, announces RabbitMQ capabilities, and closes cleanly', async () => {
    const conn = await amqp.connect(server.url);
    const props = conn.connection.serverProperties as unknown as Record<string, unknown>;
    assert.equal(props['product'], 'Warren');
    assert.equal(props['version'], WARREN_VERSION);
    assert.equal(props['platform'], `Node.js ${process.version}`);
    assert.deepEqual(props['capabilities'], { ...SERVER_CAPABILITIES });
    assert.equal(server.listener.amqpConnections.size, 1);
    const [connection] = [...server.listener.amqpConnections];
    const info = connection!.info();
    assert.equal(info.user, 'guest');
    assert.equal(info.vhost, '/');
    assert.equal(info.state, 'running');
    assert.equal(info.peerHost, '127.0.0.1');
    assert.ok(info.bytesIn > 0 && info.bytesOut > 0);
    assert.equal((info.clientProperties['product'] as string | undefined)?.toString(), 'amqplib');
    await conn.close();
    await connection!.closed;
    assert.equal(server.listener.amqpConnections.size, 0);
  });

  it('reports server properties in connection.start to a raw client', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    const { args } = await client.expectMethod(MethodId.ConnectionStart);
    assert.equal(args.versionMajor, 0);
    assert.equal(args.versionMinor, 9);
    assert.equal(args.mechanisms.toString(), 'PLAIN AMQPLAIN');
    assert.equal(args.locales.toString(), 'en_US');
    client.destroy();
  });

  it('refuses a wrong password with 403 ACCESS_REFUSED', async () => {
    await assert.rejects(amqp.connect(server.url.replace('guest:guest', 'guest:wrong')), (err: Error) => {
      assert.match(err.message, /403/);
      assert.match(err.message, /ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/);
      return true;
    });
  });

  it('accepts AMQPLAIN credentials', async () => {
    const conn = await amqp.connect(`amqp://127.0.0.1:${server.port}`, {
      credentials: amqp.credentials.amqplain('bob', 'secret'),
    });
    const [connection] = [...server.listener.amqpConnections];
    assert.equal(connection!.info().user, 'bob');
    await conn.close();
  });

  it('refuses wrong AMQPLAIN credentials naming that mechanism', async () => {
    await assert.rejects(
      amqp.connect(`amqp://127.0.0.1:${server.port}`, { credentials: amqp.credentials.amqplain('bob', 'nope') }),
      /Login was refused using authentication mechanism AMQPLAIN/,
    );
  });

  it('just closes the socket on a failed login when the client lacks authentication_failure_close', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    await client.expectMethod(MethodId.ConnectionStart);
    client.sendStartOk({ password: 'wrong', capabilities: {} });
    assert.equal(await client.closedWithin(2000), true);
    await assert.rejects(client.nextFrame(100), /socket closed/);
  });

  it('treats a malformed PLAIN response as a refused login', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    await client.expectMethod(MethodId.ConnectionStart);
    client.sendMethod(0, {
      id: MethodId.ConnectionStartOk,
      args: { clientProperties: { capabilities: { authentication_failure_close: true } }, mechanism: 'PLAIN', response: Buffer.from('no-nul-here'), locale: 'en_US' },
    });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 403);
    client.sendMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    assert.equal(await client.closedWithin(2000), true);
  });

  it('refuses an unknown SASL mechanism with 503', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    await client.expectMethod(MethodId.ConnectionStart);
    client.sendMethod(0, {
      id: MethodId.ConnectionStartOk,
      args: { clientProperties: {}, mechanism: 'EXTERNAL', response: Buffer.alloc(0), locale: 'en_US' },
    });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 503);
    assert.equal(close.args.replyText, "COMMAND_INVALID - unknown authentication mechanism 'EXTERNAL'");
    client.destroy();
  });

  it('refuses connection methods out of order with 504', async () => {
    const client = await RawAmqpClient.connect(server.port);
    client.sendHeader();
    await client.expectMethod(MethodId.ConnectionStart);
    client.sendMethod(0, { id: MethodId.ConnectionOpen, args: { virtualHost: '/', reserved1: '', reserved2: false } });
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 504);
    assert.equal(close.args.replyText, 'CHANNEL_ERROR - unexpected method in connection state starting');
    client.destroy();
  });

  it('closes with 530 for an unknown vhost, as RabbitMQ words it', async () => {
    // amqplib only says it got connection.close instead of open-ok; the raw client reads the close.
    await assert.rejects(amqp.connect(`${server.url}/nope`), /Expected ConnectionOpenOk; got <ConnectionClose/);
    const close = await openAndExpectClose({ vhost: 'nope' });
    assert.deepEqual(close, { replyCode: 530, replyText: 'NOT_ALLOWED - vhost nope not found', classId: 10, methodId: 40 });
  });

  it('closes with 530 when the user has no access to the vhost', async () => {
    await assert.rejects(amqp.connect(server.url.replace('guest:guest', 'bob:secret') + '/other'), /ConnectionClose/);
    const close = await openAndExpectClose({ user: 'bob', password: 'secret', vhost: 'other' });
    assert.equal(close.replyCode, 530);
    assert.equal(close.replyText, "NOT_ALLOWED - access to vhost 'other' refused for user 'bob'");
  });

  async function openAndExpectClose(options: RawHandshakeOptions): Promise<MethodArgs[MethodId.ConnectionClose]> {
    const again = await RawAmqpClient.connect(server.port);
    again.sendHeader();
    await again.expectMethod(MethodId.ConnectionStart);
    again.sendStartOk(options);
    const { args: tune } = await again.expectMethod(MethodId.ConnectionTune);
    again.sendMethod(0, { id: MethodId.ConnectionTuneOk, args: { ...tune, heartbeat: 0 } });
    again.sendMethod(0, { id: MethodId.ConnectionOpen, args: { virtualHost: options.vhost ?? '/', reserved1: '', reserved2: false } });
    const { args } = await again.expectMethod(MethodId.ConnectionClose);
    again.sendMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    assert.equal(await again.closedWithin(2000), true);
    return args;
  }

  it('answers a foreign protocol header with its own and closes the socket', async () => {
    for (const header of [Buffer.from('AMQP\x00\x00\x08\x00'), Buffer.from('GET / HTTP/1.1\r\n\r\n')]) {
      const reply = await exchangeRaw(server.port, header);
      assert.deepEqual(reply, Buffer.from('AMQP\x00\x00\x09\x01'));
    }
  });

  it('accepts the protocol header split over several writes', async () => {
    const client = await RawAmqpClient.connect(server.port);
    for (const byte of Buffer.from('AMQP\x00\x00\x09\x01')) {
      client.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await client.expectMethod(MethodId.ConnectionStart);
    client.destroy();
  });

  it('opens and closes many channels on one connection', async () => {
    const conn = await amqp.connect(server.url);
    const channels = await Promise.all(Array.from({ length: 300 }, () => conn.createChannel()));
    const [connection] = [...server.listener.amqpConnections];
    assert.equal(connection!.channelCount, 300);
    await Promise.all(channels.slice(0, 150).map((ch) => ch.close()));
    assert.equal(connection!.channelCount, 150);
    await conn.close();
  });

  it('tells a client that closes the connection close-ok and releases its channels', async () => {
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake();
    await client.openChannel(1);
    client.sendMethod(0, { id: MethodId.ConnectionClose, args: { replyCode: 200, replyText: 'bye', classId: 0, methodId: 0 } });
    await client.expectMethod(MethodId.ConnectionCloseOk);
    assert.equal(await client.closedWithin(2000), true);
  });
});

describe('AMQP listener shutdown', () => {
  it('sends 320 CONNECTION_FORCED to every client and stops listening', async () => {
    const server = await startBroker();
    const conns = await Promise.all([amqp.connect(server.url), amqp.connect(server.url)]);
    const closes = conns.map(
      (conn) => new Promise<Error & { code?: number }>((resolve) => conn.on('close', (err: Error) => resolve(err))),
    );
    const started = Date.now();
    await server.close();
    assert.ok(Date.now() - started < 1500, 'clients answer close-ok, no need to wait for the timeout');
    for (const err of await Promise.all(closes)) {
      assert.equal(err.code, 320);
      assert.match(err.message, /CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'/);
    }
    await assert.rejects(exchangeRaw(server.port, Buffer.from('AMQP\x00\x00\x09\x01')), /ECONNREFUSED/);
  });

  it('destroys clients that never answer connection.close within the shutdown timeout', async () => {
    const server = await startBroker({ listener: { timeouts: { shutdownMs: 300 } } });
    const client = await RawAmqpClient.connect(server.port);
    await client.handshake();
    await server.close();
    const close = await client.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 320);
    assert.equal(await client.closedWithin(1000), true);
  });
});

/** Sends bytes on a fresh socket and collects everything until the server closes it. */
function exchangeRaw(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    setTimeout(() => socket.destroy(new Error('server did not close the socket')), 3000).unref();
  });
}
