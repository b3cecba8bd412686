/**
 * RabbitMQ's topic permissions (docs "Access Control", "Topic Authorisation"; `rabbitmqctl
 * set_topic_permissions`): per user, vhost and topic exchange, a write and a read regular expression
 * over routing keys. They only add to the ordinary permissions: where a user has no topic permission
 * for an exchange, every routing key is allowed. Patterns are searched, not anchored (re:run), and may
 * name `{username}`, `{vhost}` and `{client_id}`, expanded at check time (RabbitMQ's variable expansion;
 * `{client_id}` is known to the MQTT door only, and expands to '' elsewhere).
 */
import { compilePattern } from './permissions.js';

export interface TopicPermissionPatterns {
  write: string;
  read: string;
}

/** One row, as `rabbitmqctl list_topic_permissions` and definitions exports show it. */
export interface TopicPermissionEntry extends TopicPermissionPatterns {
  user: string;
  vhost: string;
  exchange: string;
}

export type TopicPermissionKind = keyof TopicPermissionPatterns;

/** What the variables in a pattern expand to for one session. */
export interface TopicVariables {
  username: string;
  vhost: string;
  clientId?: string;
}

const VARIABLE = /\{(username|vhost|client_id)\}/g;

/** Patterns with variables compile per expansion; a few hundred sessions' forms are remembered. */
const EXPANDED_LIMIT = 1024;

export class TopicPermissionTable {
  /** user -> vhost -> exchange -> patterns */
  private readonly rows = new Map<string, Map<string, Map<string, TopicPermissionPatterns>>>();
  private readonly compiled = new Map<string, RegExp>();

  set(entry: TopicPermissionEntry): void {
    // Refuse a pattern that cannot compile even before expansion (the variables are plain words).
    compilePattern(entry.write.replace(VARIABLE, 'x'), `topic permission write of user '${entry.user}'`);
    compilePattern(entry.read.replace(VARIABLE, 'x'), `topic permission read of user '${entry.user}'`);
    let byVhost = this.rows.get(entry.user);
    if (byVhost === undefined) this.rows.set(entry.user, (byVhost = new Map()));
    let byExchange = byVhost.get(entry.vhost);
    if (byExchange === undefined) byVhost.set(entry.vhost, (byExchange = new Map()));
    byExchange.set(entry.exchange, { write: entry.write, read: entry.read });
  }

  /** Removes one exchange's row, or all of the user's rows in the vhost; returns the exchanges removed. */
  clear(user: string, vhost: string, exchange?: string): string[] {
    const byExchange = this.rows.get(user)?.get(vhost);
    if (byExchange === undefined) return [];
    const removed = exchange === undefined ? [...byExchange.keys()] : byExchange.delete(exchange) ? [exchange] : [];
    if (exchange === undefined) byExchange.clear();
    if (byExchange.size === 0) this.rows.get(user)!.delete(vhost);
    return removed;
  }

  /** Whether the user has any topic permission in the vhost (doors skip the exchange lookup otherwise). */
  any(user: string, vhost: string): boolean {
    return this.rows.get(user)?.has(vhost) === true;
  }

  list(): TopicPermissionEntry[] {
    const out: TopicPermissionEntry[] = [];
    for (const [user, byVhost] of this.rows) {
      for (const [vhost, byExchange] of byVhost) {
        for (const [exchange, p] of byExchange) out.push({ user, vhost, exchange, write: p.write, read: p.read });
      }
    }
    return out;
  }

  /** Whether the routing key is allowed: true when the user has no topic permission on the exchange. */
  allows(kind: TopicPermissionKind, vars: TopicVariables, exchange: string, routingKey: string): boolean {
    const patterns = this.rows.get(vars.username)?.get(vars.vhost)?.get(exchange);
    if (patterns === undefined) return true;
    return this.pattern(patterns[kind], vars).test(routingKey);
  }

  private pattern(source: string, vars: TopicVariables): RegExp {
    const expanded = source.replace(VARIABLE, (_all, name: string) => escapeRegExp(name === 'username' ? vars.username : name === 'vhost' ? vars.vhost : (vars.clientId ?? '')));
    let compiled = this.compiled.get(expanded);
    if (compiled === undefined) {
      compiled = compilePattern(expanded, 'topic permission');
      if (this.compiled.size >= EXPANDED_LIMIT) this.compiled.clear();
      this.compiled.set(expanded, compiled);
    }
    return compiled;
  }
}

/** A user name or client id expanded into a pattern stands for itself, not for a regular expression. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
