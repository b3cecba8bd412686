import { badRequest } from './errors.js';

type Item = Record<string, unknown>;

/** Query string options every list endpoint understands (RabbitMQ's). */
export interface ListQuery {
  columns?: string;
  sort?: string;
  sort_reverse?: string;
  page?: string;
  page_size?: string;
  name?: string;
  use_regex?: string;
}

/** The value at a dotted path ("queue_totals.messages"). */
function pathValue(item: unknown, path: string): unknown {
  let current = item;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Item)[key];
  }
  return current;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  return String(a).localeCompare(String(b));
}

/** Keeps only the requested columns; dotted paths keep nested objects partially, as RabbitMQ does. */
export function pickColumns(item: Item, columns: readonly string[]): Item {
  const picked: Item = {};
  for (const column of columns) {
    const value = pathValue(item, column);
    if (value === undefined) continue;
    const keys = column.split('.');
    let target = picked;
    for (const key of keys.slice(0, -1)) {
      const next = (target[key] ??= {}) as Item;
      target = next;
    }
    target[keys[keys.length - 1]!] = value;
  }
  return picked;
}

/**
 * Applies name filter, sorting, pagination and column selection. Without `page` the answer is the plain
 * array; with it, RabbitMQ's paged object {items, page, page_count, ...}.
 */
export function shapeList(all: Item[], query: ListQuery): unknown {
  let rows = all;
  const total = rows.length;
  if (query.name !== undefined && query.name !== '') rows = rows.filter(nameFilter(query.name, query.use_regex === 'true'));
  const sortKey = query.sort === undefined || query.sort === '' ? (query.page !== undefined ? 'name' : undefined) : query.sort;
  if (sortKey !== undefined) {
    rows = [...rows].sort((a, b) => compare(pathValue(a, sortKey), pathValue(b, sortKey)));
    if (query.sort_reverse === 'true') rows.reverse();
  }
  const columns = query.columns === undefined || query.columns === '' ? undefined : query.columns.split(',');
  const select = (list: Item[]): Item[] => (columns === undefined ? list : list.map((item) => pickColumns(item, columns)));
  if (query.page === undefined) return select(rows);
  const page = positiveInteger(query.page, 'page');
  const pageSize = query.page_size === undefined ? 100 : positiveInteger(query.page_size, 'page_size');
  const pageCount = Math.max(1, Math.ceil(rows.length / pageSize));
  if (page > pageCount) throw badRequest('page out of range');
  const items = select(rows.slice((page - 1) * pageSize, page * pageSize));
  return { filtered_count: rows.length, item_count: items.length, items, page, page_count: pageCount, page_size: pageSize, total_count: total };
}

export function shapeItem(item: Item, query: ListQuery): Item {
  return query.columns === undefined || query.columns === '' ? item : pickColumns(item, query.columns.split(','));
}

function nameFilter(name: string, regex: boolean): (item: Item) => boolean {
  if (regex) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(name);
    } catch {
      throw badRequest(`invalid regular expression '${name}'`);
    }
    return (item) => pattern.test(String(item['name'] ?? ''));
  }
  const needle = name.toLowerCase();
  return (item) => String(item['name'] ?? '').toLowerCase().includes(needle);
}

function positiveInteger(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`${what} must be a positive integer`);
  return n;
}
