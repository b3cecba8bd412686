import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { UserRegistry, scramCredential } from '../../../src/auth/index.js';
import { startExchange, SASL_MECHANISMS } from '../../../src/kafka/auth/mechanisms.js';
import type { SaslExchange, SaslStep } from '../../../src/kafka/auth/mechanism.js';
import { ScramExchange, parseClientFirst } from '../../../src/kafka/auth/scram.js';
import { clientFinal } from './auth-scram-client.js';

const SECRET = randomBytes(32);

function registry(): UserRegistry {
  const users = new UserRegistry();
  users.addUser('alice', 'wonder,land=');
  users.addUser('guest', 'guest');
  // RabbitMQ's own hash of 'guest': PLAIN works, SCRAM cannot.
  users.addUserWithHash('imported', 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O');
  return users;
}

function exchange(mechanism: string, users: UserRegistry, remoteAddress = '127.0.0.1'): SaslExchange {
  const started = startExchange(mechanism, { users, remoteAddress }, { secret: SECRET });
  assert.ok(started, mechanism);
  return started;
}

function text(step: SaslStep): string {
  assert.notEqual(step.kind, 'failure', step.kind === 'failure' ? step.reason : '');
  return (step as { token: Buffer }).token.toString('utf8');
}

test('RFC 7677 section 3 example: SCRAM-SHA-256 for user/pencil, byte for byte', () => {
  const users = new UserRegistry();
  users.addUserWithHash('user', '', [], {
    sha256: scramCredential('sha256', 'pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096),
    sha512: scramCredential('sha512', 'pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096),
  });
  const scram = new ScramExchange('SCRAM-SHA-256', 'sha256', { users, remoteAddress: '10.0.0.7' }, { secret: SECRET, serverNonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' });
  const first = scram.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  assert.equal(text(first), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const final = scram.step(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
  assert.equal(final.kind, 'success');
  assert.equal(text(final), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  assert.equal(final.kind === 'success' && final.user.name, 'user');
  assert.equal(scram.step(Buffer.from('again')).kind, 'failure');
});

for (const [mechanism, hash] of [['SCRAM-SHA-256', 'sha256'], ['SCRAM-SHA-512', 'sha512']] as const) {
  test(`${mechanism}: a user added with a password authenticates; a wrong password is refused at the proof`, () => {
    const users = registry();
    // A user name with ',' and '=' travels escaped as =2C and =3D (RFC 5802 section 5.1).
    users.addUser('a,b=c', 'pw');
    for (const [name, wire] of [['alice', 'alice'], ['a,b=c', 'a=2Cb=3Dc']] as const) {
      const password = name === 'alice' ? 'wonder,land=' : 'pw';
      const bare = `n=${wire},r=fyko+d2lbbFgONRv9qkxdawL`;
      const ok = exchange(mechanism, users);
      const serverFirst = text(ok.step(Buffer.from(`n,,${bare}`)));
      assert.match(serverFirst, /^r=fyko\+d2lbbFgONRv9qkxdawL[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
      const { message, serverSignature } = clientFinal(hash, password, bare, serverFirst);
      const done = ok.step(Buffer.from(message));
      assert.equal(done.kind, 'success');
      assert.equal(text(done), `v=${serverSignature}`);
      assert.equal(done.kind === 'success' && done.user.name, name);

      const bad = exchange(mechanism, users);
      const badFirst = text(bad.step(Buffer.from(`n,,${bare}`)));
      const refused = bad.step(Buffer.from(clientFinal(hash, 'wrong', bare, badFirst).message));
      assert.deepEqual(refused, { kind: 'failure', reason: `user '${name}' - invalid credentials` });
    }
  });

  test(`${mechanism}: unknown users and hash-only users see a stable salt and fail only at the proof`, () => {
    const users = registry();
    for (const name of ['nobody', 'imported']) {
      const salts = [0, 1].map(() => /,s=([^,]+),/.exec(text(exchange(mechanism, users).step(Buffer.from(`n,,n=${name},r=abc`))))![1]);
      assert.equal(salts[0], salts[1]);
      const scram = exchange(mechanism, users);
      const serverFirst = text(scram.step(Buffer.from(`n,,n=${name},r=abc`)));
      const refused = scram.step(Buffer.from(clientFinal(hash, 'guest', `n=${name},r=abc`, serverFirst).message));
      assert.equal(refused.kind, 'failure');
      assert.equal(refused.kind === 'failure' && refused.reason, `user '${name}' - invalid credentials`);
      if (name === 'imported') assert.match(refused.kind === 'failure' ? refused.detail ?? '' : '', /set the password again/);
    }
  });

  test(`${mechanism}: guest only from loopback, checked after the proof`, () => {
    const users = registry();
    const remote = exchange(mechanism, users, '192.0.2.9');
    const serverFirst = text(remote.step(Buffer.from('n,,n=guest,r=xyz')));
    assert.deepEqual(remote.step(Buffer.from(clientFinal(hash, 'guest', 'n=guest,r=xyz', serverFirst).message)), { kind: 'failure', reason: "user 'guest' can only connect via localhost" });
  });

  test(`${mechanism}: a changed password changes the SCRAM credentials; a hash set by import removes them`, () => {
    const users = registry();
    users.changePassword('alice', 'new');
    const run = (password: string): string => {
      const scram = exchange(mechanism, users);
      const serverFirst = text(scram.step(Buffer.from('n,,n=alice,r=n1')));
      return scram.step(Buffer.from(clientFinal(hash, password, 'n=alice,r=n1', serverFirst).message)).kind;
    };
    assert.equal(run('wonder,land='), 'failure');
    assert.equal(run('new'), 'success');
    users.setPasswordHash('alice', 'eIJPTjsafj0orOG7kzyJPZPZA6MpJBmhACHu2L1GKTxG6I0O');
    assert.equal(users.getUser('alice')?.scram, undefined);
    assert.equal(run('new'), 'failure');
    assert.equal(run('guest'), 'failure');
  });
}

test('SCRAM client-final-message checks: channel binding, nonce, proof, order', () => {
  const users = registry();
  const cases: Array<[string, (serverFirst: string, good: string) => string, RegExp]> = [
    ['binding', (_, good) => good.replace('c=biws', 'c=eSws'), /channel binding/],
    ['nonce', (_, good) => good.replace(/r=[^,]+/, 'r=other'), /nonce/],
    ['no proof', (_, good) => good.replace(/,p=.*$/, ''), /no proof/],
    ['short proof', (_, good) => good.replace(/p=.*$/, 'p=AAAA'), /invalid credentials/],
  ];
  for (const [name, mangle, reason] of cases) {
    const scram = exchange('SCRAM-SHA-256', users);
    const serverFirst = text(scram.step(Buffer.from('n,,n=alice,r=n1')));
    const good = clientFinal('sha256', 'wonder,land=', 'n=alice,r=n1', serverFirst).message;
    const step = scram.step(Buffer.from(mangle(serverFirst, good)));
    assert.equal(step.kind, 'failure', name);
    assert.match(step.kind === 'failure' ? step.reason : '', reason, name);
  }
  // librdkafka before 2.6.1 sends its own nonce again in front of the whole nonce (librdkafka #4895):
  // accepted in exactly that form, with the proof computed over what it sent; other prefixes are not.
  for (const [prefix, kind] of [['n1', 'success'], ['xx', 'failure'], ['n1n1', 'failure']] as const) {
    const scram = exchange('SCRAM-SHA-256', users);
    const serverFirst = text(scram.step(Buffer.from('n,,n=alice,r=n1')));
    const nonce = /^r=([^,]+)/.exec(serverFirst)![1]!;
    const { message } = clientFinal('sha256', 'wonder,land=', 'n=alice,r=n1', serverFirst, 'n,,', `${prefix}${nonce}`);
    const step = scram.step(Buffer.from(message));
    assert.equal(step.kind, kind, prefix);
  }
  // The "y" flag (client could bind but thinks the server cannot) and an authzid equal to the user work.
  const scram = exchange('SCRAM-SHA-256', users);
  const serverFirst = text(scram.step(Buffer.from('y,a=alice,n=alice,r=n2')));
  assert.equal(scram.step(Buffer.from(clientFinal('sha256', 'wonder,land=', 'n=alice,r=n2', serverFirst, 'y,a=alice,').message)).kind, 'success');
});

test('SCRAM client-first-message: malformed or unsupported ones are refused with a reason', () => {
  const refused: Array<[string, RegExp]> = [
    ['', /gs2 header/],
    ['n,,', /expected n=user,r=nonce/],
    ['p=tls-unique,,n=alice,r=x', /channel binding is not supported/],
    ['x,,n=alice,r=x', /gs2 header/],
    ['n,,m=ext,n=alice,r=x', /mandatory extensions/],
    ['n,,n=al=ice,r=x', /user name/],
    ['n,,n=,r=x', /user name/],
    ['n,,n=alice,r=', /nonce/],
    ['n,,n=alice,r=a\u0001b', /nonce/],
    ['n,a=bob,n=alice,r=x', /differs from user name/],
    ['n,b=bob,n=alice,r=x', /authorization id/],
    ['n,,n=alice,r=x,tokenauth=true', /delegation tokens/],
  ];
  for (const [message, reason] of refused) {
    const parsed = parseClientFirst(message);
    assert.equal(typeof parsed, 'string', message);
    assert.match(parsed as string, reason, message);
    const step = exchange('SCRAM-SHA-512', registry()).step(Buffer.from(message));
    assert.equal(step.kind, 'failure');
  }
  // Other extensions are allowed and ignored (Kafka sends none but may).
  assert.equal(typeof parseClientFirst('n,,n=alice,r=x,ext=1'), 'object');
});

test('PLAIN (RFC 4616): right and wrong passwords, authzid, malformed messages, hash-only users', () => {
  const users = registry();
  const plain = (message: string, remote = '127.0.0.1'): SaslStep => exchange('PLAIN', users, remote).step(Buffer.from(message));
  const ok = plain('\0alice\0wonder,land=');
  assert.equal(ok.kind, 'success');
  assert.equal(ok.kind === 'success' && ok.token.length, 0);
  assert.equal(plain('alice\0alice\0wonder,land=').kind, 'success');
  assert.equal(plain('\0imported\0guest').kind, 'success');
  assert.deepEqual(plain('\0alice\0nope'), { kind: 'failure', reason: "user 'alice' - invalid credentials" });
  assert.deepEqual(plain('\0ghost\0nope'), { kind: 'failure', reason: "user 'ghost' - invalid credentials" });
  assert.deepEqual(plain('\0guest\0guest', '198.51.100.1'), { kind: 'failure', reason: "user 'guest' can only connect via localhost" });
  assert.match((plain('bob\0alice\0wonder,land=') as { reason: string }).reason, /differs/);
  for (const bad of ['', 'alice', '\0alice', '\0\0pw', 'a\0b\0c\0d']) assert.equal(plain(bad).kind, 'failure', JSON.stringify(bad));
  const once = exchange('PLAIN', users);
  once.step(Buffer.from('\0alice\0wonder,land='));
  assert.equal(once.step(Buffer.from('\0alice\0wonder,land=')).kind, 'failure');
});

test('the mechanisms offered, in Kafka spelling; others (and prototype names) are not', () => {
  assert.deepEqual(SASL_MECHANISMS, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']);
  for (const name of ['GSSAPI', 'OAUTHBEARER', 'plain', 'scram-sha-256', 'constructor', 'toString']) {
    assert.equal(startExchange(name, { users: registry(), remoteAddress: '127.0.0.1' }, { secret: SECRET }), undefined, name);
  }
});
