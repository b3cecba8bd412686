import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackAddress } from '../auth/loopback.js';
import type { UserRegistry } from '../auth/users.js';
import type { Broker } from '../broker/broker.js';
import type { ConnectionView, ListenAddress, Listener } from '../session/views.js';
import { join } from 'node:path';
import { AccessKeyStore } from './access-keys.js';
import { ClientGone } from './client-gone.js';
import { SqsClients } from './clients.js';
import { ACTIONS } from './actions/index.js';
import type { AccountMap } from './addresses.js';
import { SqsDoor, type SqsCall } from './door.js';
import { SqsError, sqsError, toSqsError } from './errors.js';
import { decodeJsonRequest, encodeJsonError, encodeJsonResult, JSON_CONTENT_TYPE } from './protocol/json.js';
import { decodeQueryRequest, encodeXmlError, encodeXmlResult } from './protocol/query.js';
import type { SqsRequest } from './protocol/request.js';
import { MoveTaskStore } from './move-tasks.js';
import { QueueRegistry } from './queue-registry.js';
import { readBody } from './request-body.js';
import { respond } from './respond.js';
import { parseAuthorization, SigningKeyCache } from './sigv4.js';

/** A SendMessageBatch of 1 MiB, form-encoded (up to 3 bytes per byte), with room for the rest. */
const BODY_LIMIT = 4 * 1024 * 1024;
/** Idle keep-alive sockets stay this long (the SDKs reuse theirs; Node's default of 5 s is short for them). */
const KEEP_ALIVE_MS = 72_000;

export interface SqsAccessKeyConfig {
  accessKeyId: string;
  secretAccessKey: string;
  user: string;
  vhost: string;
}

export interface SqsListenerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  region: string;
  /** account id (12 digits) -> vhost */
  accounts: ReadonlyMap<string, string>;
  /** Keys (and an older version's queues.json, migrated on start) live in `<dataDir>/sqs/`; undefined: in memory only. */
  dataDir: string | undefined;
  /** Keys from the config file, (re)issued at every start. */
  accessKeys?: readonly SqsAccessKeyConfig[];
  /** The key pair guest/guest for the user guest (loopback only, as that user is). Default true. */
  guestKey?: boolean;
  tls?: { cert: Buffer; key: Buffer };
}

/**
 * The SQS front door: an HTTP listener (node:http; every request is one call at any path, so there
 * is nothing to route, and a framework's per-request layers were a tenth of the door's CPU) that decodes both wire protocols (JSON 1.0 with
 * X-Amz-Target, and the query protocol with XML answers), authenticates every request with SigV4
 * against the access keys of Warren users, and dispatches to one handler per action (actions/).
 * SQS has no connections (each request stands alone): /api/connections shows one row per client
 * identity instead, the access key plus the source address (clients.ts).
 */
export class SqsListener implements Listener {
  readonly protocol: string;
  readonly keys: AccessKeyStore;
  private readonly registry: QueueRegistry;
  private readonly moveTasks: MoveTaskStore;
  private door: SqsDoor | undefined;
  private server: Server | undefined;
  /** Calls waiting for messages (long polls), ended when the door closes. */
  private readonly waiting = new Set<ClientGone>();
  private blocked: string | undefined;
  private readonly signingKeys = new SigningKeyCache();
  private readonly clients = new SqsClients();

  constructor(
    private readonly broker: Broker,
    readonly users: UserRegistry,
    private readonly options: SqsListenerOptions,
    private readonly logger?: Logger,
  ) {
    this.protocol = options.tls === undefined ? 'http/sqs' : 'https/sqs';
    const dir = options.dataDir === undefined ? undefined : join(options.dataDir, 'sqs');
    this.keys = new AccessKeyStore(dir);
    this.registry = new QueueRegistry(broker.parameters, dir === undefined ? undefined : join(dir, 'queues.json'));
    this.moveTasks = new MoveTaskStore(dir === undefined ? undefined : join(dir, 'move-tasks.json'));
  }

  async listen(): Promise<ListenAddress> {
    await this.keys.load();
    await this.registry.load();
    if (this.options.guestKey !== false && this.users.getUser('guest') !== undefined) {
      this.keys.issue('guest', '/', { accessKeyId: 'guest', secretAccessKey: 'guest' });
    }
    for (const key of this.options.accessKeys ?? []) this.keys.issue(key.user, key.vhost, key);
    const accounts: AccountMap = { region: this.options.region, accounts: this.options.accounts };
    const earlierTasks = await this.moveTasks.load();
    this.door = new SqsDoor(this.broker, this.users, this.keys, this.registry, accounts, this.logger, this.moveTasks, earlierTasks);
    if (earlierTasks.length > 0) this.moveTasks.save(() => this.door!.moveTasks.values()); // RUNNING ones are FAILED now
    this.door.blockedReason = this.blocked;
    const handler = (request: IncomingMessage, response: ServerResponse): void => void this.handle(request, response);
    const tls = this.options.tls;
    const server = tls === undefined ? createHttpServer(handler) : createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.requestTimeout = 0; // a long poll may wait 20 s; SigV4's 5-minute window bounds the rest
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    return { host: this.options.host, port: address.port };
  }

  async close(_reason: string): Promise<void> {
    for (const call of [...this.waiting]) call.fire();
    this.door?.close();
    const server = this.server;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
    await this.keys.flushed();
    await this.moveTasks.flushed();
    this.registry.close();
  }

  setBlocked(reason: string | undefined): void {
    this.blocked = reason;
    if (this.door !== undefined) this.door.blockedReason = reason;
  }

  /** One row per client identity (access key + source address): clients.ts says why. */
  connections(): Iterable<ConnectionView> {
    return this.clients.list();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const door = this.door;
    const json = request.headers['x-amz-target'] !== undefined;
    try {
      const body = await readBody(request, BODY_LIMIT);
      if (door === undefined) throw sqsError('ServiceUnavailable', 'The SQS door is starting.');
      const decoded = decode(request, body);
      const key = authenticate(this.users, door, request, body, this.signingKeys);
      const client = this.clients.seen({
        accessKeyId: key.key.accessKeyId,
        user: key.user.name,
        vhost: key.key.vhost,
        address: request.socket.remoteAddress ?? '',
        port: request.socket.remotePort ?? 0,
        socket: request.socket,
        userAgent: single(request.headers['user-agent']),
        bytesIn: body.length,
        tls: this.options.tls !== undefined,
      });
      const handler = ACTIONS.get(decoded.action);
      if (handler === undefined) throw sqsError('InvalidAction', `The action ${decoded.action} is not valid for this endpoint.`);
      const call: SqsCall = {
        request: decoded,
        key: key.key,
        user: key.user,
        scheme: this.options.tls === undefined ? 'http' : 'https',
        host: request.headers.host ?? `${this.options.host}:${(this.server!.address() as AddressInfo).port}`,
        owner: client,
        client: new ClientGone(response, this.waiting),
      };
      const result = await handler(door, call);
      const encoded = decoded.protocol === 'json' ? encodeJsonResult(result) : encodeXmlResult(decoded.action, result, requestId);
      client.bytesOut += respond(response, 200, { 'x-amzn-requestid': requestId, 'content-type': decoded.protocol === 'json' ? JSON_CONTENT_TYPE : 'text/xml' }, encoded);
    } catch (error) {
      const sqs = toSqsError(error);
      if (sqs.status >= 500 && !(error instanceof SqsError)) this.logger?.error({ err: error }, 'SQS request failed');
      sendError(request, response, json, sqs, requestId);
    }
  }
}

/** An error in the caller's protocol; a body left unread (too large, or a broken request) closes the connection. */
function sendError(request: IncomingMessage, response: ServerResponse, json: boolean, error: SqsError, requestId: string): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = { 'x-amzn-requestid': requestId };
  if (!request.complete) headers['connection'] = 'close';
  if (json) {
    const encoded = encodeJsonError(error);
    respond(response, error.status, { ...headers, ...encoded.headers }, encoded.body);
  } else {
    headers['content-type'] = 'text/xml';
    respond(response, error.status, headers, encodeXmlError(error.code, error.fault, error.message, requestId));
  }
}

/** JSON protocol when X-Amz-Target is present; otherwise the query protocol (form body, or the URL's query for GET). */
function decode(request: IncomingMessage, body: Buffer): SqsRequest {
  const target = request.headers['x-amz-target'];
  if (target !== undefined) return decodeJsonRequest(Array.isArray(target) ? (target[0] ?? '') : target, body);
  const url = request.url ?? '/';
  const q = url.indexOf('?');
  const decoded = decodeQueryRequest(request.method === 'GET' || body.length === 0 ? (q < 0 ? '' : url.slice(q + 1)) : body);
  // Older clients post to the queue URL itself and leave QueueUrl out.
  const path = q < 0 ? url : url.slice(0, q);
  if (decoded.params['QueueUrl'] === undefined && path.split('/').filter((p) => p !== '').length === 2) {
    return { ...decoded, params: { ...decoded.params, QueueUrl: path } };
  }
  return decoded;
}

/** SigV4: the key must exist (InvalidClientTokenId), belong to a user, be used from where its user may log in, and sign right. */
function authenticate(users: UserRegistry, door: SqsDoor, request: IncomingMessage, body: Buffer, signingKeys: SigningKeyCache): { key: NonNullable<ReturnType<AccessKeyStore['get']>>; user: NonNullable<ReturnType<UserRegistry['getUser']>> } {
  const claim = parseAuthorization({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers, body });
  const key = door.keys.get(claim.accessKeyId);
  const user = key === undefined ? undefined : users.getUser(key.user);
  if (key === undefined || user === undefined) {
    throw sqsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  claim.verify(key.secretAccessKey, Date.now(), signingKeys);
  if (users.isLoopbackOnly(user.name) && !isLoopbackAddress(request.socket.remoteAddress ?? '')) {
    throw sqsError('InvalidClientTokenId', `The access key of user '${user.name}' is accepted only from the local machine (loopback users).`);
  }
  return { key, user };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
