/**
 * MQTT topic names and filters (4.7) and their AMQP routing keys, as RabbitMQ's MQTT plugin maps them:
 * levels separated by '/' become words separated by '.', a '.' inside a level becomes '/' (so the
 * mapping is reversible), '+' becomes '*' and '#' stays '#'.
 */
import { MqttProtocolError, Reason } from './codec/reason-codes.js';

/** MQTT topic -> AMQP routing key (and a filter -> binding key): swaps '/' and '.'. */
export function topicToRoutingKey(topic: string): string {
  if (!topic.includes('.') && !topic.includes('+')) return topic.replaceAll('/', '.');
  let out = '';
  for (let i = 0; i < topic.length; i++) {
    const c = topic[i]!;
    out += c === '/' ? '.' : c === '.' ? '/' : c === '+' ? '*' : c;
  }
  return out;
}

/** AMQP routing key -> MQTT topic (what an MQTT subscriber sees for an AMQP publish). */
export function routingKeyToTopic(key: string): string {
  // The common key has no '/': one native replace instead of a string built character by character.
  if (!key.includes('/')) return key.replaceAll('.', '/');
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    out += c === '.' ? '/' : c === '/' ? '.' : c;
  }
  return out;
}

/** 4.7.3: a topic name is at least one character and has no wildcards. */
export function checkTopicName(topic: string): void {
  if (topic.length === 0) throw new MqttProtocolError(Reason.TopicNameInvalid, 'empty topic name');
  if (topic.includes('+') || topic.includes('#')) throw new MqttProtocolError(Reason.TopicNameInvalid, `wildcard in topic name '${topic}'`);
}

/** 4.7.1: '#' only as the whole last level, '+' only as a whole level. */
export function isValidFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/** '$share/{group}/{filter}' (4.8.2); undefined for a plain filter; throws if malformed. */
export function parseShared(filter: string): SharedFilter | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  const group = slash < 0 ? rest : rest.slice(0, slash);
  const inner = slash < 0 ? '' : rest.slice(slash + 1);
  if (group.length === 0 || group.includes('+') || group.includes('#') || !isValidFilter(inner)) {
    throw new MqttProtocolError(Reason.TopicFilterInvalid, `invalid shared subscription '${filter}'`);
  }
  return { group, filter: inner };
}

/** Whether a topic name matches a filter (4.7), with 4.7.2's rule for topics starting with '$'. */
export function topicMatches(filter: string, topic: string): boolean {
  // A filter without wildcards matches only itself (and '$' topics by name are fine: 4.7.2 is about wildcards).
  if (filter === topic) return true;
  if (!filter.includes('+') && !filter.includes('#')) return false;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
