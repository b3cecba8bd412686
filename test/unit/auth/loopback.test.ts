import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLoopbackAddress } from '../../../src/auth/loopback.js';

test('IPv4 127.0.0.0/8, ::1 and IPv4-mapped 127.x are loopback', () => {
  for (const address of ['127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1', '::0:1', '::ffff:127.0.0.1', '::FFFF:127.9.9.9']) {
    assert.equal(isLoopbackAddress(address), true, address);
  }
});

test('other addresses are not loopback', () => {
  for (const address of ['10.0.0.1', '128.0.0.1', '0.0.0.0', '1.127.0.0', '::', '::2', '1::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:128.0.0.1', 'localhost', '', '127.0.0', 'garbage']) {
    assert.equal(isLoopbackAddress(address), false, address);
  }
});
