import { failure, type SaslExchange, type SaslPeer, type SaslStep } from './mechanism.js';

/**
 * SASL PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`, checked against the user
 * registry's RabbitMQ-format hashes, so every Warren user with a password can use it.
 */
export class PlainExchange implements SaslExchange {
  readonly mechanism = 'PLAIN';
  private done = false;

  constructor(private readonly peer: SaslPeer) {}

  step(token: Buffer): SaslStep {
    if (this.done) return failure('PLAIN takes exactly one message');
    this.done = true;
    const parts = token.toString('utf8').split('\0');
    if (parts.length !== 3) return failure('malformed PLAIN message: expected [authzid] NUL authcid NUL passwd (RFC 4616 section 2)');
    const [authzid, username, password] = parts as [string, string, string];
    if (username === '') return failure('malformed PLAIN message: empty authentication identity');
    // Acting as another user is not a thing Warren has; Kafka refuses it the same way.
    if (authzid !== '' && authzid !== username) return failure(`authorization id '${authzid}' differs from user name '${username}'`);
    const outcome = this.peer.users.authenticate(username, password, this.peer.remoteAddress);
    if (!outcome.ok) return failure(outcome.reason);
    return { kind: 'success', token: Buffer.alloc(0), user: outcome.user };
  }
}
