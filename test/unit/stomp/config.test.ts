import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/index.js';

test('STOMP is off by default; a port flag or variable turns it on; enabled:true means 61613', () => {
  assert.equal(loadConfig({ env: {}, flags: {} }).stomp, undefined);
  assert.deepEqual(loadConfig({ env: {}, flags: { 'stomp-port': '0', 'amqp-host': '127.0.0.1' } }).stomp, { enabled: true, host: '127.0.0.1', port: 0, tlsPort: undefined });
  assert.equal(loadConfig({ env: { WARREN_STOMP_PORT: '61000' }, flags: {} }).stomp?.port, 61000);
  assert.throws(() => loadConfig({ env: {}, flags: { 'stomp-port': '70000' } }), /stomp-port/);
});
