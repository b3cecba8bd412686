import { fieldValuesEqual } from '../arguments.js';
import type { Binding, RouteSink } from '../binding.js';
import { preconditionFailed } from '../errors.js';
import type { FieldTable, FieldValue, Message } from '../message.js';
import { fieldTypeName } from '../arguments.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';

type MatchMode = 'all' | 'any' | 'all-with-x' | 'any-with-x';
const modes: ReadonlySet<string> = new Set<MatchMode>(['all', 'any', 'all-with-x', 'any-with-x']);

/** A binding's arguments, parsed once at bind time. */
interface HeadersMatcher {
  readonly binding: Binding;
  readonly all: boolean;
  readonly keys: string[];
  /** null: the header only has to be present (RabbitMQ reads a void pattern value that way). */
  readonly values: FieldValue[];
}

function compile(binding: Binding): HeadersMatcher {
  const mode = (binding.arguments['x-match'] ?? 'all') as MatchMode;
  const withX = mode.endsWith('-with-x');
  const keys: string[] = [];
  const values: FieldValue[] = [];
  for (const [key, value] of Object.entries(binding.arguments)) {
    if (key === 'x-match') continue;
    if (!withX && key.startsWith('x-')) continue;
    keys.push(key);
    values.push(value);
  }
  return { binding, all: mode.startsWith('all'), keys, values };
}

function headerMatches(headers: FieldTable, key: string, expected: FieldValue): boolean {
  const actual = headers[key];
  if (actual === undefined) return false;
  return expected === null || fieldValuesEqual(expected, actual);
}

function matches(matcher: HeadersMatcher, headers: FieldTable): boolean {
  const { keys, values } = matcher;
  if (matcher.all) {
    for (let i = 0; i < keys.length; i++) if (!headerMatches(headers, keys[i]!, values[i]!)) return false;
    return true;
  }
  for (let i = 0; i < keys.length; i++) if (headerMatches(headers, keys[i]!, values[i]!)) return true;
  return false;
}

const NO_HEADERS: FieldTable = Object.freeze({});

/** Routes on message headers against each binding's arguments (x-match all/any[-with-x]). */
export class HeadersRouter implements ExchangeRouter {
  private readonly matchers: HeadersMatcher[] = [];

  addBinding(binding: Binding): void {
    this.matchers.push(compile(binding));
  }

  removeBinding(binding: Binding): void {
    const index = this.matchers.findIndex((m) => m.binding === binding);
    if (index >= 0) this.matchers.splice(index, 1);
  }

  route(message: Message, sink: RouteSink): void {
    const headers = message.properties.headers ?? NO_HEADERS;
    const matchers = this.matchers;
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i]!;
      if (matches(matcher, headers)) sink.add(matcher.binding.destination);
    }
  }
}

/** Reply texts as RabbitMQ's headers exchange words them (rabbit_exchange_type_headers:validate_binding). */
function validateHeadersBinding(_routingKey: string, args: FieldTable): void {
  const mode = args['x-match'];
  if (mode === undefined) return;
  if (typeof mode !== 'string') {
    throw preconditionFailed(
      `Invalid x-match field type ${fieldTypeName(mode)} (value ${String(mode)}); expected longstr`,
    );
  }
  if (!modes.has(mode)) {
    throw preconditionFailed(
      `Invalid x-match field value <<"${mode}">>; expected all, any, all-with-x, or any-with-x`,
    );
  }
}

export const headersExchangeType: ExchangeType = {
  name: 'headers',
  validateBinding: validateHeadersBinding,
  createRouter: () => new HeadersRouter(),
};
