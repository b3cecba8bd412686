import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/index.js';

test('MQTT is off by default; --mqtt-port, WARREN_MQTT_PORT or mqtt.port turn it on; TLS defaults to 8883', async () => {
  assert.equal(loadConfig({ env: {}, flags: {} }).mqtt, undefined);
  assert.deepEqual(loadConfig({ env: {}, flags: { 'mqtt-port': '0', 'amqp-host': '127.0.0.1' } }).mqtt, { host: '127.0.0.1', port: 0, allowAnonymous: true, vhost: '/', tls: undefined });
  assert.equal(loadConfig({ env: { WARREN_MQTT_PORT: '1884' }, flags: {} }).mqtt?.port, 1884);
  assert.throws(() => loadConfig({ env: {}, flags: { 'mqtt-port': '70000' } }), /mqtt-port/);
  const dir = await mkdtemp(join(tmpdir(), 'warren-mqtt-config-'));
  try {
    const file = join(dir, 'warren.json');
    await writeFile(file, JSON.stringify({ mqtt: { port: 1883, allowAnonymous: false, cert: 'cert.pem', key: 'key.pem' } }));
    const mqtt = loadConfig({ env: {}, flags: {}, file, cwd: dir }).mqtt;
    assert.deepEqual([mqtt?.port, mqtt?.allowAnonymous, mqtt?.tls?.port, mqtt?.tls?.cert], [1883, false, 8883, join(dir, 'cert.pem')]);
    // The flag beats the variable, which beats the file.
    assert.equal(loadConfig({ env: { WARREN_MQTT_PORT: '1885' }, flags: { 'mqtt-port': '1886' }, file, cwd: dir }).mqtt?.port, 1886);
    assert.equal(loadConfig({ env: { WARREN_MQTT_PORT: '1885' }, flags: {}, file, cwd: dir }).mqtt?.port, 1885);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
