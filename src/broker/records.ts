import type { DefinitionRecord, DefinitionStore } from '../store/store.js';
import { BrokerError, BrokerErrorKind } from './errors.js';

/**
 * Small keyed records per vhost and table, kept in the store's definitions journal (kind 'record').
 *
 * Why in the broker: a job library (src/jobs) or any client needs state the queues do not hold (a
 * finished job's return value, a failed job's reason, a paused flag, job schedulers), and that state
 * must live where the messages live, with the same durability, not in a side database. Each record has
 * a `tag` (a job's state) so that counts, pages and retention work per tag without scanning a table.
 * Generic on purpose: nothing here knows about jobs.
 */
export interface StoredRecord {
  readonly key: string;
  readonly tag: string;
  readonly value: unknown;
  /** Milliseconds since the epoch of the last put. */
  readonly updatedAt: number;
}

export interface PutCondition {
  /** Only if no record has this key (an idempotent create). */
  ifAbsent?: boolean;
  /** Only if a record exists and its tag is one of these (a state transition). */
  ifTagIn?: readonly string[];
}

/** How a put changes the record (both default to false: the value replaces the record's, journalled). */
export interface PutMode {
  /**
   * The value's fields are laid over the current value's (a shallow merge; a field set to null stays
   * null), so a state change sends and parses only what changed, not the whole record again. Without a
   * current object value the value is taken as it is.
   */
  merge?: boolean;
  /**
   * Kept in memory only: the journal keeps the record's last journalled state, which a restart brings
   * back (or no record, if it never had one). For states that a restart makes untrue anyway: a job
   * marked active while a worker holds its delivery (the restart gives the delivery back, the record
   * says waiting again). A later journalled put or delete writes over it as usual.
   */
  transient?: boolean;
}

export interface TrimRequest {
  tag: string;
  /** Keep at most this many records of the tag, the most recently updated ones. */
  keep?: number;
  /** Remove those updated more than this long ago. */
  maxAgeMs?: number;
  /** Remove at most this many (0 or absent: no limit). */
  limit?: number;
}

export interface ListRequest {
  tag?: string;
  offset?: number;
  limit?: number;
  /** Oldest first (default: newest first). */
  ascending?: boolean;
}

const MAX_KEY_LENGTH = 1024;

/** One table: records by key, and per tag in update order (a Map keeps insertion order). */
class RecordTable {
  readonly byKey = new Map<string, StoredRecord>();
  readonly byTag = new Map<string, Map<string, StoredRecord>>();
  /** `["vhost","table",` of the journal keys: the array is not stringified again for every write. */
  private readonly journalPrefix: string;

  constructor(vhost: string, table: string) {
    this.journalPrefix = `${JSON.stringify([vhost, table]).slice(0, -1)},`;
  }

  /** The record's key in the definitions journal: JSON.stringify([vhost, table, key]), as restore reads it. */
  journalKey(key: string): string {
    return `${this.journalPrefix}${JSON.stringify(key)}]`;
  }

  set(record: StoredRecord): void {
    this.remove(record.key);
    this.byKey.set(record.key, record);
    let tagged = this.byTag.get(record.tag);
    if (tagged === undefined) this.byTag.set(record.tag, (tagged = new Map()));
    tagged.set(record.key, record);
  }

  remove(key: string): StoredRecord | undefined {
    const old = this.byKey.get(key);
    if (old === undefined) return undefined;
    this.byKey.delete(key);
    const tagged = this.byTag.get(old.tag);
    tagged?.delete(key);
    if (tagged?.size === 0) this.byTag.delete(old.tag);
    return old;
  }
}

export class RecordTables {
  private readonly tables = new Map<string, RecordTable>();
  private journal: DefinitionStore | undefined;

  /** From now on every change is written to `store` (called once recovery is done). */
  persistTo(store: DefinitionStore): void {
    this.journal = store;
  }

  restore(records: readonly DefinitionRecord[]): void {
    for (const record of records) {
      if (record.kind !== 'record') continue;
      const [vhost, table, key] = JSON.parse(record.key) as [string, string, string];
      const value = record.value as { tag: string; value: unknown; updatedAt: number };
      this.table(vhost, table, true)!.set({ key, tag: value.tag, value: value.value, updatedAt: value.updatedAt });
    }
  }

  get(vhost: string, table: string, key: string): StoredRecord | undefined {
    return this.table(vhost, table, false)?.byKey.get(key);
  }

  /** Returns whether the record was written (false: the condition did not hold). */
  put(vhost: string, table: string, key: string, tag: string, value: unknown, condition: PutCondition = {}, now = Date.now(), mode: PutMode = {}): boolean {
    checkName('table', table);
    checkName('key', key);
    checkName('tag', tag);
    // The condition is checked before the table is made: a refused put leaves no empty table behind
    // (a finished flow parent's dependency table stays gone when a late child reports to it).
    const found = this.table(vhost, table, false);
    const existing = found?.byKey.get(key);
    if (condition.ifAbsent === true && existing !== undefined) return false;
    if (condition.ifTagIn !== undefined && (existing === undefined || !condition.ifTagIn.includes(existing.tag))) return false;
    const stored = mode.merge === true ? merged(existing?.value, value) : value;
    const records = found ?? this.table(vhost, table, true)!;
    records.set({ key, tag, value: stored, updatedAt: now });
    if (mode.transient !== true) this.journal?.putDefinition('record', records.journalKey(key), { tag, value: stored, updatedAt: now });
    return true;
  }

  /** Returns whether a record was deleted (false: none, or `ifTagIn` did not hold). */
  delete(vhost: string, table: string, key: string, condition: Pick<PutCondition, 'ifTagIn'> = {}): boolean {
    const records = this.table(vhost, table, false);
    const existing = records?.byKey.get(key);
    if (existing === undefined || (condition.ifTagIn !== undefined && !condition.ifTagIn.includes(existing.tag))) return false;
    records!.remove(key);
    this.journal?.deleteDefinition('record', records!.journalKey(key));
    this.dropIfEmpty(vhost, table);
    return true;
  }

  /** Removes the oldest records of a tag beyond `keep` or older than `maxAgeMs`; returns their keys. */
  trim(vhost: string, table: string, request: TrimRequest, now = Date.now()): string[] {
    const tagged = this.table(vhost, table, false)?.byTag.get(request.tag);
    if (tagged === undefined) return [];
    let excess = request.keep === undefined ? 0 : Math.max(0, tagged.size - request.keep);
    const cutoff = request.maxAgeMs === undefined ? -Infinity : now - request.maxAgeMs;
    const removed: string[] = [];
    for (const record of tagged.values()) {
      if (request.limit !== undefined && request.limit > 0 && removed.length >= request.limit) break;
      if (excess > 0) excess--;
      else if (record.updatedAt >= cutoff) break;
      removed.push(record.key);
    }
    for (const key of removed) this.delete(vhost, table, key);
    return removed;
  }

  list(vhost: string, table: string, request: ListRequest = {}): StoredRecord[] {
    const records = this.table(vhost, table, false);
    if (records === undefined) return [];
    const source = request.tag === undefined ? records.byKey : records.byTag.get(request.tag);
    const offset = Math.max(0, request.offset ?? 0);
    const limit = request.limit === undefined ? Infinity : Math.max(0, request.limit);
    // A count-only read (getJobCounts asks for no items) or a page past the end copies nothing.
    if (source === undefined || limit === 0 || offset >= source.size) return [];
    if (request.ascending === true) return pageOf(source.values(), offset, limit);
    const all = [...source.values()];
    all.reverse();
    return all.slice(offset, offset + limit);
  }

  counts(vhost: string, table: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [tag, records] of this.table(vhost, table, false)?.byTag ?? []) counts[tag] = records.size;
    return counts;
  }

  /** Table names of a vhost with their record counts. */
  tablesOf(vhost: string): { name: string; records: number }[] {
    const prefix = `${vhost}\u0000`;
    const out: { name: string; records: number }[] = [];
    for (const [id, table] of this.tables) if (id.startsWith(prefix)) out.push({ name: id.slice(prefix.length), records: table.byKey.size });
    return out;
  }

  dropTable(vhost: string, table: string): number {
    const records = this.table(vhost, table, false);
    if (records === undefined) return 0;
    const keys = [...records.byKey.keys()];
    for (const key of keys) this.delete(vhost, table, key);
    return keys.length;
  }

  /** A deleted vhost takes its records with it. */
  dropVhost(vhost: string): void {
    for (const { name } of this.tablesOf(vhost)) this.dropTable(vhost, name);
  }

  private table(vhost: string, table: string, create: boolean): RecordTable | undefined {
    const id = `${vhost}\u0000${table}`;
    let records = this.tables.get(id);
    if (records === undefined && create) this.tables.set(id, (records = new RecordTable(vhost, table)));
    return records;
  }

  private dropIfEmpty(vhost: string, table: string): void {
    const id = `${vhost}\u0000${table}`;
    if (this.tables.get(id)?.byKey.size === 0) this.tables.delete(id);
  }
}

/** Items `offset` to `offset + limit` of an iteration, without copying the ones before. */
function pageOf(values: IterableIterator<StoredRecord>, offset: number, limit: number): StoredRecord[] {
  const page: StoredRecord[] = [];
  let index = 0;
  for (const value of values) {
    if (index++ < offset) continue;
    page.push(value);
    if (page.length >= limit) break;
  }
  return page;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A new object (the current one may be shared with the journal's snapshot of it: never changed in place). */
function merged(current: unknown, change: unknown): unknown {
  return isPlainObject(current) && isPlainObject(change) ? { ...current, ...change } : change;
}


function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_KEY_LENGTH) {
    throw new BrokerError(BrokerErrorKind.InvalidArgument, `record ${what} must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
  }
}
