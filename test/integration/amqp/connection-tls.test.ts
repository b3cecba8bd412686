import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { MethodId } from '../../../src/amqp/spec/generated.js';
import { startBroker, type TestBroker } from '../../helpers/broker.js';
import { RawAmqpClient } from './connection-raw-client.js';

/** A throwaway self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI. */
function selfSignedCertificate(dir: string): { cert: Buffer; key: Buffer } {
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '1',
      '-keyout', keyPath, '-out', certPath,
      '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

describe('AMQP over TLS (amqps)', () => {
  let dir: string;
  let tls: { cert: Buffer; key: Buffer };
  let server: TestBroker;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
    tls = selfSignedCertificate(dir);
    server = await startBroker({ listener: { tls } });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves amqplib over amqps:// with the CA pinned', async () => {
    assert.match(server.url, /^amqps:\/\//);
    const conn = await amqp.connect(server.url, { ca: [tls.cert] });
    const [connection] = [...server.listener.amqpConnections];
    assert.equal(connection!.info().tls, true);
    const channel = await conn.createChannel();
    await channel.close();
    await conn.close();
  });

  it('runs the AMQP handshake over TLS byte for byte', async () => {
    const client = await RawAmqpClient.connect(server.port, { ca: tls.cert, servername: 'localhost' });
    await client.handshake();
    await client.openChannel(1);
    client.destroy();
  });

  it('refuses a client that does not trust the certificate', async () => {
    await assert.rejects(amqp.connect(server.url), /self-signed certificate|self signed certificate/);
  });

  it('drops a plain-text client without answering in AMQP', async () => {
    const reply = await new Promise<Buffer>((resolve) => {
      const socket = connectTcp({ port: server.port, host: '127.0.0.1' });
      const chunks: Buffer[] = [];
      socket.on('connect', () => socket.write('AMQP\x00\x00\x09\x01'));
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(Buffer.concat(chunks)));
      setTimeout(() => socket.destroy(), 3000).unref();
    });
    assert.equal(reply.includes(Buffer.from('AMQP')), false);
  });

  it('sends 320 to TLS clients on shutdown', async () => {
    const own = await startBroker({ listener: { tls } });
    const ownClient = await RawAmqpClient.connect(own.port, { ca: tls.cert, servername: 'localhost' });
    await ownClient.handshake();
    const closing = own.close();
    const close = await ownClient.expectMethod(MethodId.ConnectionClose);
    assert.equal(close.args.replyCode, 320);
    ownClient.sendMethod(0, { id: MethodId.ConnectionCloseOk, args: {} });
    await closing;
    assert.equal(await ownClient.closedWithin(1000), true);
  });
});
