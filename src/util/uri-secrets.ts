/**
 * Passwords in AMQP URIs (`amqp://user:secret@host`) must never reach an API response or a log line.
 * RabbitMQ's shovel and federation status show URIs with the password replaced; Warren does the same
 * everywhere it shows a parameter value, a link or a log record.
 */

const URI_WITH_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/@?#]*)@/i;

/** The URI with the password of its userinfo replaced by `***` (the user name stays, for diagnosis). */
export function redactUri(uri: string): string {
  const match = URI_WITH_USERINFO.exec(uri);
  if (match === null) return uri;
  const userinfo = match[2] ?? '';
  const colon = userinfo.indexOf(':');
  if (colon < 0) return uri;
  return `${match[1]}${userinfo.slice(0, colon)}:***@${uri.slice(match[0].length)}`;
}

/** A JSON value with every string that is a URI with a password redacted (deeply; a new value). */
export function redactSecrets(value: unknown): unknown {
  if (typeof value === 'string') return redactUri(value);
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactSecrets(v)]));
  }
  return value;
}
