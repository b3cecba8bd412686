/** The three regular expressions RabbitMQ grants per user and vhost. */
export interface Permissions {
  configure: RegExp;
  write: RegExp;
  read: RegExp;
}

export interface PermissionPatterns {
  configure: string;
  write: string;
  read: string;
}

export type PermissionKind = keyof Permissions;

/**
 * An empty pattern grants nothing: RabbitMQ (rabbit_auth_backend_internal) replaces '' with '^$' because an
 * empty regex would otherwise match every name. Resource names are never empty when checked (the default
 * exchange is checked as 'amq.default', server-named queues after naming), so '^$' matches nothing real.
 */
const EMPTY_PATTERN = /^$/;

/**
 * Compiles RabbitMQ permission patterns. They are searched, not anchored (RabbitMQ uses re:run), so
 * 'jobs' also grants 'old-jobs-1'; operators write '^jobs$' to mean exactly one name.
 */
export function compilePermissions(patterns: PermissionPatterns, describe = 'permission'): Permissions {
  return {
    configure: compilePattern(patterns.configure, `${describe} configure`),
    write: compilePattern(patterns.write, `${describe} write`),
    read: compilePattern(patterns.read, `${describe} read`),
  };
}

export function compilePattern(pattern: string, describe: string): RegExp {
  if (pattern === '') return EMPTY_PATTERN;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new SyntaxError(`${describe}: invalid regular expression '${pattern}'`, { cause: error });
  }
}

/** The pattern text as it was given ('' for the grant-nothing pattern). */
export function patternSource(pattern: RegExp): string {
  return pattern === EMPTY_PATTERN ? '' : pattern.source;
}
