import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, isPasswordHash, verifyPassword } from '../../../src/auth/password.js';

// Produced by RabbitMQ 3.10.8's own rabbit_password:hash(rabbit_password_hashing_sha256, Password)
// (Debian's rabbitmq-server, called through erl), so these pin compatibility with real RabbitMQ hashes.
const RABBIT_HASH_OF_GUEST = 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O';
const RABBIT_HASH_OF_UNICODE = 'wdU2sdrBWF4BFFGXQSx4uQVcWfXlWmY1HJtn8ZRyQ0DJ5bsn';
const UNICODE_PASSWORD = 's3cret pässwörd ✓';

test('verifies hashes that RabbitMQ produced', () => {
  assert.equal(verifyPassword('guest', RABBIT_HASH_OF_GUEST), true);
  assert.equal(verifyPassword(UNICODE_PASSWORD, RABBIT_HASH_OF_UNICODE), true);
});

test('rejects wrong passwords against RabbitMQ hashes', () => {
  assert.equal(verifyPassword('Guest', RABBIT_HASH_OF_GUEST), false);
  assert.equal(verifyPassword('guest ', RABBIT_HASH_OF_GUEST), false);
  assert.equal(verifyPassword('', RABBIT_HASH_OF_GUEST), false);
  assert.equal(verifyPassword('s3cret passwörd ✓', RABBIT_HASH_OF_UNICODE), false);
});

test('reproduces RabbitMQ hash bytes when given the same salt', () => {
  const salt = Buffer.from(RABBIT_HASH_OF_GUEST, 'base64').subarray(0, 4);
  assert.equal(hashPassword('guest', salt), RABBIT_HASH_OF_GUEST);
  const unicodeSalt = Buffer.from(RABBIT_HASH_OF_UNICODE, 'base64').subarray(0, 4);
  assert.equal(hashPassword(UNICODE_PASSWORD, unicodeSalt), RABBIT_HASH_OF_UNICODE);
});

test('fresh hashes are salted, well-formed and verifiable', () => {
  const first = hashPassword('hunter2');
  const second = hashPassword('hunter2');
  assert.notEqual(first, second);
  assert.equal(isPasswordHash(first), true);
  assert.equal(Buffer.from(first, 'base64').length, 36);
  assert.equal(verifyPassword('hunter2', first), true);
  assert.equal(verifyPassword('hunter3', first), false);
});

test('malformed hashes never verify and are not accepted as hashes', () => {
  for (const bad of ['', 'abc', 'not base64 at all!!', RABBIT_HASH_OF_GUEST.slice(0, 40), `${RABBIT_HASH_OF_GUEST}AAAA`]) {
    assert.equal(verifyPassword('guest', bad), false, bad);
    assert.equal(isPasswordHash(bad), false, bad);
  }
  assert.throws(() => hashPassword('x', Buffer.alloc(3)), RangeError);
});
