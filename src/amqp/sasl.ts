import { fieldString } from '../broker/message.js';
import { decodeFieldTable } from './codec/field-table-buffer.js';

/** What a SASL response yields: the credentials to check against the UserRegistry. */
export interface SaslCredentials {
  username: string;
  password: string;
}

export type SaslMechanism = 'PLAIN' | 'AMQPLAIN';

export function isSupportedMechanism(name: string): name is SaslMechanism {
  return name === 'PLAIN' || name === 'AMQPLAIN';
}

/**
 * Decodes the start-ok `response` for a mechanism. Undefined when the response is malformed; RabbitMQ
 * treats that as a failed login (access refused), not as a protocol error.
 */
export function parseSaslResponse(mechanism: SaslMechanism, response: Buffer): SaslCredentials | undefined {
  return mechanism === 'PLAIN' ? parsePlain(response) : parseAmqplain(response);
}

/** RFC 4616: [authzid] NUL authcid NUL passwd. The authorization identity is ignored, as RabbitMQ does. */
function parsePlain(response: Buffer): SaslCredentials | undefined {
  const first = response.indexOf(0);
  if (first < 0) return undefined;
  const second = response.indexOf(0, first + 1);
  if (second < 0) return undefined;
  return {
    username: response.toString('utf8', first + 1, second),
    password: response.toString('utf8', second + 1),
  };
}

/**
 * AMQPLAIN: a field table with LOGIN and PASSWORD. Clients (amqplib, pika, the Java client) send the table
 * entries without the table's 4-byte length prefix and RabbitMQ parses exactly that. A prefixed table is
 * also accepted: entries begin with a key length byte, so a genuine prefix is recognised by its value.
 */
function parseAmqplain(response: Buffer): SaslCredentials | undefined {
  let table;
  try {
    table = decodeFieldTable(withLengthPrefix(response));
  } catch {
    return undefined;
  }
  const username = fieldString(table['LOGIN']);
  const password = fieldString(table['PASSWORD']);
  if (username === undefined || password === undefined) return undefined;
  return { username, password };
}

function withLengthPrefix(response: Buffer): Buffer {
  if (response.length >= 4 && response.readUInt32BE(0) === response.length - 4) return response;
  const prefixed = Buffer.allocUnsafe(response.length + 4);
  prefixed.writeUInt32BE(response.length, 0);
  response.copy(prefixed, 4);
  return prefixed;
}

/** Encodes credentials as a client would, for tests and tools. */
export function plainResponse(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`, 'utf8');
}
