import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/load.js';
import { parseConfigText } from '../../../src/config/file.js';

test('--kafka-tls-port with its own certificate, or with the AMQPS one', () => {
  const own = loadConfig({ env: {}, flags: { 'kafka-port': '0', 'kafka-tls-port': '9094', 'kafka-tls-cert': '/c.pem', 'kafka-tls-key': '/k.pem', 'amqp-host': '127.0.0.1' } });
  assert.deepEqual(own.kafka?.tls, { host: '127.0.0.1', port: 9094, cert: '/c.pem', key: '/k.pem', ca: undefined });
  const shared = loadConfig({ env: { WARREN_KAFKA_TLS_PORT: '0' }, flags: { 'amqps-cert': '/a.pem', 'amqps-key': '/ak.pem', 'amqps-ca': '/ca.pem' } });
  assert.deepEqual(shared.kafka?.tls, { host: '0.0.0.0', port: 0, cert: '/a.pem', key: '/ak.pem', ca: '/ca.pem' });
  // Without a TLS setting there is no TLS listener, even with an AMQPS certificate.
  assert.equal(loadConfig({ env: {}, flags: { 'kafka-port': '0', 'amqps-cert': '/a.pem', 'amqps-key': '/ak.pem' } }).kafka?.tls, undefined);
});

test('the kafka section\'s cert and key alone turn TLS on at 9093; half a pair or no certificate is an error', () => {
  const layer = parseConfigText('kafka:\n  port: 9092\n  cert: tls/c.pem\n  key: tls/k.pem\n', 'warren.yaml', '/etc/warren');
  assert.deepEqual(layer.kafka, { port: 9092, cert: '/etc/warren/tls/c.pem', key: '/etc/warren/tls/k.pem' });
  const config = loadConfig({ env: {}, flags: { 'kafka-tls-cert': '/c.pem', 'kafka-tls-key': '/k.pem' } });
  assert.equal(config.kafka?.tls?.port, 9093);
  assert.equal(config.kafka?.port, 9092);
  assert.throws(() => loadConfig({ env: {}, flags: { 'kafka-tls-cert': '/c.pem' } }), /kafka TLS needs both cert and key/);
  assert.throws(() => loadConfig({ env: {}, flags: { 'kafka-tls-port': '9093' } }), /kafka.tlsPort needs a certificate/);
  assert.throws(() => parseConfigText('kafka:\n  tlsPort: 70000\n', 'warren.yaml', '/'), /kafka\.tlsPort/);
});
