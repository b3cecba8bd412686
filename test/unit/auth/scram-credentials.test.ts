import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import pino from 'pino';
import { UserRegistry, isScramCredentials, scramCredential, scramCredentials } from '../../../src/auth/index.js';
import { UserJournal, restoreUsers } from '../../../src/auth/user-journal.js';
import { Broker } from '../../../src/broker/broker.js';
import { applyDefinitionChanges } from '../../../src/cluster/definitions/apply-changes.js';
import type { DefinitionRecord, DefinitionStore } from '../../../src/store/store.js';

const RABBIT_GUEST_HASH = 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O';

/** A definitions store that only remembers the latest value per key, like the journal after replay. */
function journalStore(): DefinitionStore & { records(): DefinitionRecord[] } {
  const map = new Map<string, DefinitionRecord>();
  return {
    putDefinition: (kind, key, value) => void map.set(`${kind}/${key}`, { kind, key, value: JSON.parse(JSON.stringify(value)) as unknown }),
    deleteDefinition: (kind, key) => void map.delete(`${kind}/${key}`),
    whenDurable: (callback) => callback(),
    records: () => [...map.values()],
  };
}

test('StoredKey and ServerKey follow RFC 5802 section 3 for both hashes', () => {
  for (const [hash, length] of [['sha256', 32], ['sha512', 64]] as const) {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const credential = scramCredential(hash, 'pencil', salt, 4096);
    const salted = pbkdf2Sync('pencil', salt, 4096, length, hash);
    const clientKey = createHmac(hash, salted).update('Client Key').digest();
    assert.equal(credential.storedKey, createHash(hash).update(clientKey).digest('base64'));
    assert.equal(credential.serverKey, createHmac(hash, salted).update('Server Key').digest('base64'));
    assert.equal(credential.salt, salt.toString('base64'));
    assert.equal(credential.iterations, 4096);
  }
  // RFC 7677's example ServerKey, from its ServerSignature, is checked by the exchange test; here the
  // shape check: fresh salts per hash and per call, and malformed values are recognised.
  const a = scramCredentials('pw');
  const b = scramCredentials('pw');
  assert.notEqual(a.sha256.salt, b.sha256.salt);
  assert.notEqual(a.sha256.salt, a.sha512.salt);
  assert.equal(isScramCredentials(a), true);
  assert.equal(isScramCredentials({ sha256: a.sha256 }), false);
  assert.equal(isScramCredentials({ sha256: a.sha512, sha512: a.sha256 }), false);
  assert.equal(isScramCredentials('x'), false);
  assert.throws(() => scramCredential('sha256', 'pw', undefined, 0), RangeError);
});

test('the registry makes SCRAM credentials whenever it learns a password, and only then', () => {
  const users = new UserRegistry();
  assert.equal(isScramCredentials(users.addUser('alice', 'pw').scram), true);
  const before = users.getUser('alice')!.scram!;
  users.changePassword('alice', 'pw2');
  assert.notDeepEqual(users.getUser('alice')!.scram, before);
  assert.equal(users.addUserWithHash('imported', RABBIT_GUEST_HASH).scram, undefined);
  users.changePassword('imported', 'guest');
  assert.equal(isScramCredentials(users.getUser('imported')!.scram), true);
  users.setPasswordHash('imported', RABBIT_GUEST_HASH);
  assert.equal(users.getUser('imported')!.scram, undefined);
  assert.throws(() => users.addUserWithHash('bad', '', [], { sha256: before.sha256 } as never), /malformed SCRAM/);
  assert.throws(() => users.setPasswordHash('alice', '', { nope: 1 } as never), /malformed SCRAM/);
  // Tags do not touch credentials.
  const kept = users.getUser('alice')!.scram;
  users.setTags('alice', ['management']);
  assert.equal(users.getUser('alice')!.scram, kept);
});

test('SCRAM credentials are journaled with the user and come back at restore; old journals without them still load', () => {
  const store = journalStore();
  const first = new UserRegistry();
  first.observe(new UserJournal(store));
  first.addUser('alice', 'pw');
  first.addUserWithHash('imported', RABBIT_GUEST_HASH);
  first.changePassword('alice', 'pw2');
  const alice = first.getUser('alice')!.scram;
  // A journal record from before SCRAM existed: no scram field.
  store.putDefinition('user', 'old', { name: 'old', passwordHash: RABBIT_GUEST_HASH, tags: [] });
  // A damaged one: the user loads, SCRAM is just unavailable.
  store.putDefinition('user', 'odd', { name: 'odd', passwordHash: RABBIT_GUEST_HASH, tags: [], scram: { sha256: 'x' } });

  const second = new UserRegistry();
  restoreUsers(second, store.records(), { users: [{ name: 'seeded', password: 'seed', tags: [] }], permissions: [] }, store);
  assert.deepEqual(second.getUser('alice')!.scram, alice);
  assert.equal(second.getUser('imported')!.scram, undefined);
  assert.equal(second.getUser('old')!.scram, undefined);
  assert.equal(second.getUser('odd')!.scram, undefined);
  assert.equal(second.authenticate('odd', 'guest', '127.0.0.1').ok, true);
  // A config user seeded with a password gets credentials, journaled for the next start.
  assert.equal(isScramCredentials(second.getUser('seeded')!.scram), true);
  const third = new UserRegistry();
  restoreUsers(third, store.records(), { users: [], permissions: [] }, store);
  assert.deepEqual(third.getUser('seeded')!.scram, second.getUser('seeded')!.scram);
});

test('a cluster peer applying a user change takes the SCRAM credentials with the hash', () => {
  const source = new UserRegistry();
  const store = journalStore();
  source.observe(new UserJournal(store));
  source.addUser('alice', 'pw');
  const peer = new UserRegistry();
  const broker = new Broker();
  const changes = () => store.records().map((record) => ({ ...record, deleted: false }));
  applyDefinitionChanges(broker, peer, changes(), pino({ level: 'silent' }));
  assert.deepEqual(peer.getUser('alice')!.scram, source.getUser('alice')!.scram);
  source.changePassword('alice', 'pw2');
  applyDefinitionChanges(broker, peer, changes(), pino({ level: 'silent' }));
  assert.deepEqual(peer.getUser('alice')!.scram, source.getUser('alice')!.scram);
  source.setPasswordHash('alice', RABBIT_GUEST_HASH);
  applyDefinitionChanges(broker, peer, changes(), pino({ level: 'silent' }));
  assert.equal(peer.getUser('alice')!.scram, undefined);
});
