import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isPasswordHash } from '../auth/password.js';
import { ConfigError, LOG_LEVELS, QUEUE_TYPES, SYNC_MODES } from './types.js';
import type { ConfigLayer, PermissionConfig, SqsAccessKeyConfig, SqsAccountConfig, UserConfig, VhostConfig } from './types.js';
import {
  boolean, child, fail, fraction, integer, list, mapping, nodeName, nonEmptyString, oneOf, optional, port, postgresUrl, regexPattern, required, string,
} from './validators.js';
import type { Validator } from './validators.js';
import { parseShovel } from '../shovel/definition.js';

/** Reads and validates a YAML config file. Relative paths inside it are relative to the file's folder. */
export function readConfigFile(path: string, cwd: string): { layer: ConfigLayer; file: string } {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { layer: parseConfigText(text, path, dirname(file)), file };
}

/** Parses config text; `label` names it in messages ("warren.yaml: limits.frameMax must be ..."). */
export function parseConfigText(text: string, label: string, baseDir: string): ConfigLayer {
  const document = parseDocument(text, { prettyErrors: true });
  const firstError = document.errors[0];
  if (firstError !== undefined) throw new ConfigError(`${label}: invalid YAML: ${firstError.message}`);
  const root: unknown = document.toJS();
  if (root === null || root === undefined) return {};
  return readRoot(root, label, baseDir);
}

const ROOT_KEYS = ['amqp', 'amqps', 'http', 'dataDir', 'limits', 'store', 'log', 'users', 'vhosts', 'permissions', 'loopbackUsers', 'cluster', 'sqs', 'shovels', 'stomp', 'push', 'mqtt', 'kafka'] as const;

function readRoot(value: unknown, where: string, baseDir: string): ConfigLayer {
  const root = mapping(value, where, ROOT_KEYS);
  const layer: ConfigLayer = {};
  const path: Validator<string> = (raw, at) => resolve(baseDir, nonEmptyString(raw, at));
  assignDefined(layer, 'amqp', optional(root, 'amqp', where, listener));
  assignDefined(layer, 'amqps', optional(root, 'amqps', where, tlsListener(path)));
  assignDefined(layer, 'http', optional(root, 'http', where, listener));
  assignDefined(layer, 'dataDir', optional(root, 'dataDir', where, path));
  assignDefined(layer, 'limits', optional(root, 'limits', where, limits));
  assignDefined(layer, 'store', optional(root, 'store', where, store));
  assignDefined(layer, 'log', optional(root, 'log', where, log));
  assignDefined(layer, 'users', optional(root, 'users', where, list(user)));
  assignDefined(layer, 'vhosts', optional(root, 'vhosts', where, list(vhost)));
  assignDefined(layer, 'permissions', optional(root, 'permissions', where, list(permission)));
  assignDefined(layer, 'loopbackUsers', optional(root, 'loopbackUsers', where, list(nonEmptyString)));
  assignDefined(layer, 'cluster', optional(root, 'cluster', where, cluster));
  assignDefined(layer, 'sqs', optional(root, 'sqs', where, sqs(path)));
  assignDefined(layer, 'shovels', optional(root, 'shovels', where, shovels));
  assignDefined(layer, 'stomp', optional(root, 'stomp', where, stompSection));
  assignDefined(layer, 'push', optional(root, 'push', where, push));
  assignDefined(layer, 'mqtt', optional(root, 'mqtt', where, section({ ...MQTT_VALIDATORS, cert: path, key: path, ca: path })));
  assignDefined(layer, 'kafka', optional(root, 'kafka', where, section(KAFKA_VALIDATORS)));
  checkReferences(layer, where);
  return layer;
}

/** Static shovels: each is checked with the dynamic shovels' own validation (src/shovel/definition.ts). */
const shovels: Validator<Record<string, Record<string, unknown>>> = (value, where) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(where, 'a mapping of shovel names', value);
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, definition] of Object.entries(value as Record<string, unknown>)) {
    const at = child(where, name);
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) fail(at, 'a mapping of shovel settings', definition);
    const { vhost, ...keys } = definition as Record<string, unknown>;
    if (vhost !== undefined && typeof vhost !== 'string') fail(child(at, 'vhost'), 'a vhost name', vhost);
    try {
      parseShovel(name, keys);
    } catch (error) {
      throw new ConfigError(`${at}: ${(error as Error).message}`);
    }
    out[name] = definition as Record<string, unknown>;
  }
  return out;
};

function assignDefined<K extends keyof ConfigLayer>(layer: ConfigLayer, key: K, value: ConfigLayer[K] | undefined): void {
  if (value !== undefined) layer[key] = value;
}

/**
 * A section of scalar settings read through its table of validators, so a setting added to the table is
 * read, checked and listed among the known keys in one place. Unknown keys are errors; absent or null
 * keys stay unset (a lower layer or the default applies).
 */
function section<V extends Record<string, Validator<unknown>>>(validators: V): Validator<{ [K in keyof V]?: ReturnType<V[K]> }> {
  return (value, where) => {
    const object = mapping(value, where, Object.keys(validators));
    const fields: Record<string, unknown> = {};
    for (const [key, validate] of Object.entries(validators)) {
      const field = optional(object, key, where, validate);
      if (field !== undefined) fields[key] = field;
    }
    return fields as { [K in keyof V]?: ReturnType<V[K]> };
  };
}

const listener: Validator<ConfigLayer['amqp'] & object> = section({ host: nonEmptyString, port });
const stompSection: Validator<ConfigLayer['stomp'] & object> = section({ host: nonEmptyString, port, tlsPort: port, enabled: flagValue });

function flagValue(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') fail(where, 'true or false', value);
  return value;
}

function tlsListener(path: Validator<string>): Validator<ConfigLayer['amqps'] & object> {
  return section({ host: nonEmptyString, port, cert: path, key: path, ca: path });
}

export const LIMIT_VALIDATORS = {
  maxConnections: integer(1),
  channelMax: integer(1, 65535),
  // 4096 is the spec's frame-min-size; a frame size must fit in 32 bits.
  frameMax: integer(4096, 0xffffffff),
  heartbeatSeconds: integer(0, 65535),
  // RabbitMQ caps max_message_size at 512 MiB.
  maxMessageBytes: integer(1, 512 * 1024 * 1024),
  // A delivery not acked within this many ms goes back to its queue; 0 = never (RabbitMQ's consumer_timeout).
  consumerTimeoutMs: integer(0),
  // Share of the machine's memory above which publishers are blocked (RabbitMQ's vm_memory_high_watermark).
  memoryHighWatermark: fraction,
} as const;

const limits: Validator<ConfigLayer['limits'] & object> = section(LIMIT_VALIDATORS);

export const STORE_VALIDATORS = {
  sync: oneOf(SYNC_MODES),
  syncIntervalMs: integer(1, 60_000),
  diskFreeLimitBytes: integer(0),
  // Below 64 KiB a queue could not keep even one typical batch of bodies in memory.
  queueMemoryBytes: integer(64 * 1024),
} as const;

const store: Validator<ConfigLayer['store'] & object> = section(STORE_VALIDATORS);

export const CLUSTER_VALIDATORS = {
  url: postgresUrl,
  // RabbitMQ's node names are free text; ours must fit in a row and a log line.
  nodeName: nodeName,
  advertiseHost: nonEmptyString,
  linkPort: port,
  // A lease shorter than a few heartbeats would expire on one slow round trip.
  leaseMs: integer(1000, 600_000),
  heartbeatMs: integer(100, 60_000),
  defaultQueueType: oneOf(QUEUE_TYPES),
} as const;

const cluster: Validator<ConfigLayer['cluster'] & object> = section(CLUSTER_VALIDATORS);

/** The MQTT door (`mqtt:` section); TLS listens when cert and key are set. */
export const MQTT_VALIDATORS = {
  host: nonEmptyString,
  port,
  allowAnonymous: boolean,
  vhost: nonEmptyString,
  tlsPort: port,
} as const;

/** The Kafka door (`kafka:` section); on when a port is given. */
export const KAFKA_VALIDATORS = {
  host: nonEmptyString,
  port,
  vhost: nonEmptyString,
  advertisedHost: nonEmptyString,
  advertisedPort: integer(1, 65535),
  autoCreateTopics: boolean,
  requireSasl: boolean,
  // Kafka's default socket.request.max.bytes is 100 MiB; below 1 KiB no real client could talk.
  maxRequestBytes: integer(1024, 1024 * 1024 * 1024),
  defaultPartitions: integer(1, 1000),
} as const;

export const logLevel = oneOf(LOG_LEVELS);

const log: Validator<ConfigLayer['log'] & object> = section({ level: logLevel });

const passwordHash: Validator<string> = (value, where) => {
  const hash = string(value, where);
  if (!isPasswordHash(hash)) fail(where, "a RabbitMQ SHA-256 password hash (base64 of 36 bytes, as 'rabbitmqctl hash_password' prints)", value);
  return hash;
};

const user: Validator<UserConfig> = (value, where) => {
  const object = mapping(value, where, ['name', 'password', 'passwordHash', 'tags']);
  const result: UserConfig = {
    name: required(object, 'name', where, nonEmptyString),
    tags: optional(object, 'tags', where, list(nonEmptyString)) ?? [],
  };
  const password = optional(object, 'password', where, string);
  const hash = optional(object, 'passwordHash', where, passwordHash);
  if ((password === undefined) === (hash === undefined)) {
    throw new ConfigError(`${where} must have exactly one of password or passwordHash`);
  }
  if (password !== undefined) result.password = password;
  if (hash !== undefined) result.passwordHash = hash;
  return result;
};

const vhost: Validator<VhostConfig> = (value, where) => {
  if (typeof value === 'string') return { name: nonEmptyString(value, where) };
  const object = mapping(value, where, ['name']);
  return { name: required(object, 'name', where, nonEmptyString) };
};

const permission: Validator<PermissionConfig> = (value, where) => {
  const object = mapping(value, where, ['user', 'vhost', 'configure', 'write', 'read']);
  return {
    user: required(object, 'user', where, nonEmptyString),
    vhost: optional(object, 'vhost', where, nonEmptyString) ?? '/',
    configure: required(object, 'configure', where, regexPattern),
    write: required(object, 'write', where, regexPattern),
    read: required(object, 'read', where, regexPattern),
  };
};

/** Users and vhosts named by permissions must be defined; names must be unique. */
function checkReferences(layer: ConfigLayer, where: string): void {
  const userNames = uniqueNames(layer.users ?? [], child(where, 'users'));
  const vhostNames = uniqueNames(layer.vhosts ?? [], child(where, 'vhosts'));
  vhostNames.add('/');
  (layer.permissions ?? []).forEach((entry, index) => {
    const at = `${child(where, 'permissions')}[${index}]`;
    if (layer.users !== undefined && !userNames.has(entry.user)) {
      throw new ConfigError(`${at}.user '${entry.user}' is not defined under users`);
    }
    if (layer.vhosts !== undefined && !vhostNames.has(entry.vhost)) {
      throw new ConfigError(`${at}.vhost '${entry.vhost}' is not defined under vhosts`);
    }
  });
}

function uniqueNames(entries: readonly { name: string }[], where: string): Set<string> {
  const names = new Set<string>();
  entries.forEach((entry, index) => {
    if (names.has(entry.name)) throw new ConfigError(`${where}[${index}].name '${entry.name}' is defined twice`);
    names.add(entry.name);
  });
  return names;
}

/** The SQS door's section (README "SQS"). */
function sqs(path: Validator<string>): Validator<ConfigLayer['sqs'] & object> {
  const account: Validator<SqsAccountConfig> = (value, where) => {
    const object = mapping(value, where, ['account', 'vhost']);
    const id = required(object, 'account', where, nonEmptyString);
    if (!/^\d{12}$/.test(id)) fail(child(where, 'account'), 'a 12-digit AWS account id', id);
    return { account: id, vhost: required(object, 'vhost', where, nonEmptyString) };
  };
  const accessKey: Validator<SqsAccessKeyConfig> = (value, where) => {
    const object = mapping(value, where, ['accessKeyId', 'secretAccessKey', 'user', 'vhost']);
    return {
      accessKeyId: required(object, 'accessKeyId', where, nonEmptyString),
      secretAccessKey: required(object, 'secretAccessKey', where, nonEmptyString),
      user: required(object, 'user', where, nonEmptyString),
      vhost: optional(object, 'vhost', where, nonEmptyString) ?? '/',
    };
  };
  return section({ host: nonEmptyString, port, region: nonEmptyString, accounts: list(account), accessKeys: list(accessKey), cert: path, key: path });
}

/** push: { allowHttp, allowHosts: [...], secrets: { name: secret } } (README "Push queues"). */
const push: Validator<NonNullable<ConfigLayer['push']>> = (value, where) => {
  const object = mapping(value, where, ['allowHttp', 'allowHosts', 'secrets']);
  const out: NonNullable<ConfigLayer['push']> = {};
  const allowHttp = optional(object, 'allowHttp', where, boolean);
  if (allowHttp !== undefined) out.allowHttp = allowHttp;
  const allowHosts = optional(object, 'allowHosts', where, list(nonEmptyString));
  if (allowHosts !== undefined) out.allowHosts = allowHosts;
  const secrets = object['secrets'];
  if (secrets !== undefined && secrets !== null) {
    const table = mapping(secrets, child(where, 'secrets'), Object.keys(secrets as object));
    out.secrets = Object.fromEntries(Object.entries(table).map(([name, secret]) => [name, nonEmptyString(secret, child(child(where, 'secrets'), name))]));
  }
  return out;
};
