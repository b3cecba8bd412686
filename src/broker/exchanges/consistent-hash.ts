/**
 * The `x-consistent-hash` exchange type (RabbitMQ's rabbitmq_consistent_hash_exchange plugin).
 *
 * A binding's key is its weight: a positive integer, the binding's share of the hash space. Each
 * message goes to exactly one destination, chosen by hashing the routing key, or the header named by
 * the exchange argument `hash-header`, or the property named by `hash-property` (message_id,
 * correlation_id, timestamp). A message without that header/property hashes as "absent", so all such
 * messages go to one destination (the plugin hashes Erlang's `undefined` the same way).
 *
 * Unlike the plugin (jump consistent hash over buckets numbered in binding order), Warren places each
 * binding's points on a hash ring at positions derived from the binding itself, so the mapping depends
 * only on the set of bindings: it is the same after a restart whatever order bindings are recovered
 * in, and adding or removing a binding only moves the keys that land on its points.
 */
import type { Binding, BindingDestination, RouteSink } from '../binding.js';
import { preconditionFailed } from '../errors.js';
import { fieldNumber, fieldString, TypedValue, type FieldTable, type FieldValue, type Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from './exchange-type.js';
import { murmur3Finalize, murmur3MixBlock } from '../../util/murmur3.js';

/** Ring points per unit of weight: enough that shares are within a few percent of the weights. */
export const POINTS_PER_WEIGHT = 160;
/** Highest weight one binding may have (its points are kept in memory). */
export const MAX_WEIGHT = 10_000;

const HASH_PROPERTIES = ['message_id', 'correlation_id', 'timestamp'] as const;
type HashProperty = (typeof HASH_PROPERTIES)[number];

// ---- hashing: MurmurHash3's block mix (x86, 32-bit) over UTF-16 code units, fixed seed, so deterministic --
// (the tail is mixed as a whole block, unlike the reference: kept so that existing bindings route as before)

const SEED = 0x9747b28c;

/** 32-bit hash of a string; two UTF-16 code units per block. No allocation. */
export function hashString(s: string): number {
  let h = SEED;
  const n = s.length;
  let i = 0;
  for (; i + 1 < n; i += 2) h = murmur3MixBlock(h, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  if (i < n) h = murmur3MixBlock(h, s.charCodeAt(i));
  return murmur3Finalize(h, n);
}

/** 32-bit hash of bytes, four per block. */
export function hashBytes(b: Buffer): number {
  let h = SEED;
  const n = b.length;
  let i = 0;
  for (; i + 3 < n; i += 4) h = murmur3MixBlock(h, b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
  let tail = 0;
  for (let shift = 0; i < n; i++, shift += 8) tail |= b[i]! << shift;
  if ((n & 3) !== 0) h = murmur3MixBlock(h, tail);
  return murmur3Finalize(h, n);
}

const ABSENT_HASH = hashString('\u0000absent');

function hashFieldValue(value: FieldValue | undefined): number {
  if (value === undefined || value === null) return ABSENT_HASH;
  if (typeof value === 'string') return hashString(value);
  if (Buffer.isBuffer(value)) return hashBytes(value);
  if (typeof value === 'number' || typeof value === 'bigint') return hashString(String(value));
  if (value instanceof TypedValue) return hashString(String(fieldNumber(value)));
  return hashString(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

// ---- the ring ----------------------------------------------------------------------------------------

/** Parses a binding key the way Erlang's list_to_integer does: optional sign, digits only. */
function parseWeight(routingKey: string): number | undefined {
  return /^[+-]?[0-9]+$/.test(routingKey) ? Number(routingKey) : undefined;
}

/**
 * Bindings' points on a 32-bit ring, rebuilt lazily on the first route after a change (binding many
 * queues in a row costs one rebuild, not one per bind). Lookup: binary search for the first point at or
 * after the key's hash, wrapping around.
 */
class HashRing {
  private positions = new Uint32Array(0);
  private destinations: BindingDestination[] = [];
  private readonly bindings = new Set<Binding>();
  private dirty = false;

  add(binding: Binding): void {
    this.bindings.add(binding);
    this.dirty = true;
  }

  remove(binding: Binding): void {
    if (this.bindings.delete(binding)) this.dirty = true;
  }

  lookup(hash: number): BindingDestination | undefined {
    if (this.dirty) this.rebuild();
    const positions = this.positions;
    const n = positions.length;
    if (n === 0) return undefined;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (positions[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    return this.destinations[lo === n ? 0 : lo];
  }

  private rebuild(): void {
    this.dirty = false;
    const points: { position: number; identity: string; destination: BindingDestination }[] = [];
    for (const binding of this.bindings) {
      const count = (parseWeight(binding.routingKey) ?? 0) * POINTS_PER_WEIGHT;
      for (let i = 0; i < count; i++) {
        points.push({
          position: hashString(`${binding.identity}\u0000${i}`),
          identity: binding.identity,
          destination: binding.destination,
        });
      }
    }
    // Equal positions are ordered by binding identity so the ring never depends on insertion order.
    points.sort((a, b) => a.position - b.position || (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
    this.positions = Uint32Array.from(points, (p) => p.position);
    this.destinations = points.map((p) => p.destination);
  }
}

type HashSource = { kind: 'routing-key' } | { kind: 'header'; name: string } | { kind: 'property'; name: HashProperty };

function hashSource(args: FieldTable): HashSource {
  const header = fieldString(args['hash-header']);
  if (header !== undefined) return { kind: 'header', name: header };
  const property = fieldString(args['hash-property']);
  if (property !== undefined) return { kind: 'property', name: property as HashProperty };
  return { kind: 'routing-key' };
}

export class ConsistentHashRouter implements ExchangeRouter {
  private readonly ring = new HashRing();
  private readonly source: HashSource;

  constructor(args: FieldTable) {
    this.source = hashSource(args);
  }

  addBinding(binding: Binding): void {
    this.ring.add(binding);
  }

  removeBinding(binding: Binding): void {
    this.ring.remove(binding);
  }

  route(message: Message, sink: RouteSink): void {
    const destination = this.ring.lookup(this.hashOf(message));
    if (destination !== undefined) sink.add(destination);
  }

  /** The destination a message would go to (for tests and diagnostics). */
  destinationFor(message: Message): BindingDestination | undefined {
    return this.ring.lookup(this.hashOf(message));
  }

  private hashOf(message: Message): number {
    const source = this.source;
    switch (source.kind) {
      case 'routing-key':
        return hashString(message.routingKey);
      case 'header':
        return hashFieldValue(message.properties.headers?.[source.name]);
      case 'property':
        return hashProperty(message, source.name);
    }
  }
}

function hashProperty(message: Message, name: HashProperty): number {
  const p = message.properties;
  switch (name) {
    case 'message_id':
      return p.messageId === undefined ? ABSENT_HASH : hashString(p.messageId);
    case 'correlation_id':
      return p.correlationId === undefined ? ABSENT_HASH : hashString(p.correlationId);
    case 'timestamp':
      return p.timestamp === undefined ? ABSENT_HASH : hashString(String(p.timestamp));
  }
}

/** The plugin's declare checks and reply texts (rabbit_exchange_type_consistent_hash:validate/1). */
function validateConsistentHashDeclare(args: FieldTable): void {
  const header = args['hash-header'];
  const property = args['hash-property'];
  if (header !== undefined && property !== undefined) {
    throw preconditionFailed('hash-header and hash-property are mutually exclusive');
  }
  if (header !== undefined && fieldString(header) === undefined) {
    throw preconditionFailed('hash-header must be a string (the name of a message header)');
  }
  if (property !== undefined) {
    const name = fieldString(property);
    if (name === undefined || !(HASH_PROPERTIES as readonly string[]).includes(name)) {
      throw preconditionFailed(`Unsupported property: ${name ?? String(property)}`);
    }
  }
}

/** rabbit_exchange_type_consistent_hash:validate_binding/2, plus an upper bound on the weight. */
function validateWeight(routingKey: string): void {
  const weight = parseWeight(routingKey);
  if (weight === undefined) throw preconditionFailed(`The binding key must be an integer: <<"${routingKey}">>`);
  if (weight < 1) throw preconditionFailed('The binding key must be greater than 0');
  if (weight > MAX_WEIGHT) throw preconditionFailed(`The binding key must be at most ${MAX_WEIGHT}`);
}

export const consistentHashExchangeType: ExchangeType = {
  name: 'x-consistent-hash',
  validateDeclare: validateConsistentHashDeclare,
  validateBinding: validateWeight,
  createRouter: (args) => new ConsistentHashRouter(args),
};
