import type { FastifyInstance } from 'fastify';
import type { User } from '../../auth/users.js';
import { requireAdministrator } from '../auth.js';
import type { ManagementContext } from '../context.js';
import { badRequest, objectNotFound } from '../errors.js';
import { bodyObject } from '../format.js';
import { shapeItem, shapeList, type ListQuery } from '../query.js';
import { permissionJson } from './permissions.js';

export const HASHING_ALGORITHM = 'rabbit_password_hashing_sha256';

export function userJson(user: User): Record<string, unknown> {
  return { name: user.name, password_hash: user.passwordHash, hashing_algorithm: HASHING_ALGORITHM, tags: [...user.tags], limits: {} };
}

/** Tags come as "a,b" (rabbitmqadmin, RabbitMQ before 3.9) or as an array. */
export function parseTags(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return value.map((t) => t.trim()).filter((t) => t !== '');
  throw badRequest('tags must be a comma-separated string or an array of strings');
}

export interface UserUpdate {
  password?: string;
  passwordHash?: string;
  tags: string[];
}

/** Reads password / password_hash / hashing_algorithm / tags of a user PUT or a definitions entry. */
export function parseUserUpdate(body: Record<string, unknown>): UserUpdate {
  const algorithm = body['hashing_algorithm'];
  if (algorithm !== undefined && algorithm !== HASHING_ALGORITHM) {
    throw badRequest(`unsupported hashing_algorithm '${String(algorithm)}' (Warren supports ${HASHING_ALGORITHM})`);
  }
  const update: UserUpdate = { tags: parseTags(body['tags']) };
  const password = body['password'];
  const hash = body['password_hash'];
  if (password !== undefined) {
    if (typeof password !== 'string') throw badRequest('password must be a string');
    update.password = password;
  } else if (hash !== undefined) {
    if (typeof hash !== 'string') throw badRequest('password_hash must be a string');
    update.passwordHash = hash;
  }
  return update;
}

/**
 * Creates or updates a user. Without password or password_hash a new user gets none (no password
 * login) and an existing one keeps theirs. Returns whether the user was new.
 */
export function putUser(context: ManagementContext, name: string, update: UserUpdate): boolean {
  const users = context.users;
  if (users.getUser(name) === undefined) {
    if (update.password !== undefined) users.addUser(name, update.password, update.tags);
    else users.addUserWithHash(name, update.passwordHash ?? '', update.tags);
    return true;
  }
  if (update.password !== undefined) users.changePassword(name, update.password);
  else if (update.passwordHash !== undefined) users.setPasswordHash(name, update.passwordHash);
  users.setTags(name, update.tags);
  return false;
}

export function registerUserRoutes(app: FastifyInstance, context: ManagementContext): void {
  app.get('/api/whoami', async (request) => ({ name: request.managementUser.name, tags: [...request.managementUser.tags] }));

  app.get<{ Querystring: ListQuery }>('/api/users', async (request) => {
    requireAdministrator(request.managementUser);
    return shapeList(context.users.listUsers().map(userJson), request.query);
  });

  app.get<{ Params: { user: string }; Querystring: ListQuery }>('/api/users/:user', async (request) => {
    requireAdministrator(request.managementUser);
    const user = context.users.getUser(request.params.user);
    if (user === undefined) throw objectNotFound();
    return shapeItem(userJson(user), request.query);
  });

  app.put<{ Params: { user: string } }>('/api/users/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    const created = putUser(context, request.params.user, parseUserUpdate(bodyObject(request.body)));
    return reply.code(created ? 201 : 204).send();
  });

  app.delete<{ Params: { user: string } }>('/api/users/:user', async (request, reply) => {
    requireAdministrator(request.managementUser);
    if (!context.users.deleteUser(request.params.user)) throw objectNotFound();
    return reply.code(204).send();
  });

  app.get<{ Params: { user: string }; Querystring: ListQuery }>('/api/users/:user/permissions', async (request) => {
    requireAdministrator(request.managementUser);
    if (context.users.getUser(request.params.user) === undefined) throw objectNotFound();
    const rows = context.users.listPermissions().filter((p) => p.user === request.params.user);
    return shapeList(rows.map(permissionJson), request.query);
  });
}
