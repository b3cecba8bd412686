import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { User } from '../auth/users.js';
import type { AccessKey } from './access-keys.js';
import type { SqsListener } from './server.js';

/** A key as listings show it: never the secret (that is shown once, when issued). */
function keyJson(key: AccessKey): Record<string, unknown> {
  return { access_key_id: key.accessKeyId, user: key.user, vhost: key.vhost, created: new Date(key.created).toISOString() };
}

/**
 * The management API's SQS access keys (administrators only), registered by the composition root
 * behind the management API's own authentication:
 *   GET    /api/sqs/keys            every key (without secrets)
 *   POST   /api/sqs/keys            {"user": "...", "vhost": "/"} -> the new key with its secret
 *   DELETE /api/sqs/keys/<id>       revokes it
 */
export function registerSqsKeyRoutes(app: FastifyInstance, sqs: () => SqsListener | undefined): void {
  const guard = (request: FastifyRequest, reply: FastifyReply): SqsListener | undefined => {
    const user = (request as unknown as { managementUser?: User }).managementUser;
    if (user === undefined || !user.tags.includes('administrator')) {
      void reply.code(401).send({ error: 'not_authorised', reason: 'Not administrator user' });
      return undefined;
    }
    const listener = sqs();
    if (listener === undefined) void reply.code(404).send({ error: 'not_found', reason: 'the SQS door is not enabled' });
    return listener;
  };
  app.get('/api/sqs/keys', async (request, reply) => {
    const listener = guard(request, reply);
    if (listener === undefined) return reply;
    return listener.keys.list().map(keyJson);
  });
  app.post('/api/sqs/keys', async (request, reply) => {
    const listener = guard(request, reply);
    if (listener === undefined) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const user = body['user'];
    const vhost = body['vhost'] ?? '/';
    if (typeof user !== 'string' || typeof vhost !== 'string') return reply.code(400).send({ error: 'bad_request', reason: 'user (and optionally vhost) must be strings' });
    if (listener.users.getUser(user) === undefined) return reply.code(400).send({ error: 'bad_request', reason: `no such user '${user}'` });
    const key = listener.keys.issue(user, vhost);
    await listener.keys.flushed();
    return reply.code(201).send({ ...keyJson(key), secret_access_key: key.secretAccessKey });
  });
  app.delete('/api/sqs/keys/:id', async (request, reply) => {
    const listener = guard(request, reply);
    if (listener === undefined) return reply;
    const id = (request.params as { id: string }).id;
    if (!listener.keys.revoke(id)) return reply.code(404).send({ error: 'not_found', reason: `no access key '${id}'` });
    await listener.keys.flushed();
    return reply.code(204).send();
  });
}
