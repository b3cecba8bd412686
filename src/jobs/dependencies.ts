import type { RecordJson, StateClient } from './state-client.js';
import { dependencyTable, names, type DependencySnapshot, type JobRecord, type ParentRef } from './types.js';

/**
 * Reading a flow parent's dependencies (BullMQ's getDependencies, getDependenciesCount and the values
 * getters). While the parent waits for children they are its dependency table; once it left
 * waiting-children they are the snapshot in its own record (flow-deps.ts writes both). Both sources
 * answer the same way, so a count and a page agree whichever one they came from.
 */
export type DependencyType = 'processed' | 'unprocessed' | 'failed' | 'ignored';
export const DEPENDENCY_TYPES: readonly DependencyType[] = ['processed', 'unprocessed', 'ignored', 'failed'];

/** The tag of each type in a dependency table. */
const TAG: Record<DependencyType, string> = { processed: 'processed', unprocessed: 'pending', failed: 'failed', ignored: 'ignored' };

/** BullMQ's DependencyOpts: `cursor` where a page starts (0: the first), `count` its size (default 20). */
export interface DependencyOpts {
  cursor?: number;
  count?: number;
}

export type DependenciesOpts = Partial<Record<DependencyType, DependencyOpts>>;

/** BullMQ's answer: the types asked for, each with its next cursor (0 once there is no more). */
export interface Dependencies {
  processed?: Record<string, unknown>;
  nextProcessedCursor?: number;
  unprocessed?: string[];
  nextUnprocessedCursor?: number;
  failed?: string[];
  nextFailedCursor?: number;
  ignored?: Record<string, string>;
  nextIgnoredCursor?: number;
}

export type DependencyCounts = Partial<Record<DependencyType, number>>;

const DEFAULT_COUNT = 20;

export function emptySnapshot(): DependencySnapshot {
  return { processed: {}, unprocessed: [], failed: [], ignored: {} };
}

/** A snapshot of a dependency table's records (in the table's order: oldest change first). */
export function snapshotOf(records: readonly RecordJson[]): DependencySnapshot {
  const snapshot = emptySnapshot();
  for (const record of records) {
    if (record.tag === 'processed') snapshot.processed[record.key] = record.value;
    else if (record.tag === 'pending') snapshot.unprocessed.push(record.key);
    else if (record.tag === 'failed') snapshot.failed.push(record.key);
    else if (record.tag === 'ignored') snapshot.ignored[record.key] = record.value as string;
  }
  return snapshot;
}

/** The snapshot in a parent's record (empty for a job without one). */
export async function recordedSnapshot(state: StateClient, parent: ParentRef): Promise<DependencySnapshot> {
  const record = (await state.run<JobRecord>({ table: names(parent.queue).table, op: 'get', key: parent.id })).current;
  return record?.value.dependencies ?? emptySnapshot();
}

/**
 * The parent's dependencies now. The table is read first: when it is empty the parent left
 * waiting-children (the move and the table's clearing are one batch), so its record has them.
 */
export async function currentSnapshot(state: StateClient, parent: ParentRef, known?: DependencySnapshot): Promise<DependencySnapshot> {
  if (known !== undefined) return known;
  const records = await state.listAllIn(dependencyTable(parent));
  return records.length > 0 ? snapshotOf(records) : recordedSnapshot(state, parent);
}

function keysOf(snapshot: DependencySnapshot, type: DependencyType): string[] {
  const entries = snapshot[type];
  return Array.isArray(entries) ? entries : Object.keys(entries);
}

export async function dependencyCounts(state: StateClient, parent: ParentRef, known: DependencySnapshot | undefined, types: readonly DependencyType[]): Promise<DependencyCounts> {
  let counts: Record<DependencyType, number> | undefined;
  if (known === undefined) {
    const table = (await state.listIn(dependencyTable(parent), undefined, 0, 0, true)).counts;
    if (Object.values(table).some((n) => n > 0)) counts = Object.fromEntries(DEPENDENCY_TYPES.map((type) => [type, table[TAG[type]] ?? 0])) as Record<DependencyType, number>;
  }
  if (counts === undefined) {
    const snapshot = known ?? (await recordedSnapshot(state, parent));
    counts = Object.fromEntries(DEPENDENCY_TYPES.map((type) => [type, keysOf(snapshot, type).length])) as Record<DependencyType, number>;
  }
  return Object.fromEntries(types.map((type) => [type, counts![type]]));
}

/** One page of one type: keys (and values for processed and ignored), and the next cursor. */
interface Page {
  items: { key: string; value: unknown }[];
  next: number;
}

function pageOfSnapshot(snapshot: DependencySnapshot, type: DependencyType, cursor: number, count: number): Page {
  const keys = keysOf(snapshot, type);
  const values = snapshot[type] as Record<string, unknown> | string[];
  const slice = keys.slice(cursor, cursor + count);
  const items = slice.map((key) => ({ key, value: Array.isArray(values) ? null : values[key] }));
  return { items, next: cursor + slice.length < keys.length ? cursor + slice.length : 0 };
}

async function pagesOfTable(state: StateClient, parent: ParentRef, wanted: [DependencyType, number, number][]): Promise<Page[] | undefined> {
  const answers = await Promise.all(wanted.map(([type, cursor, count]) => state.listIn(dependencyTable(parent), TAG[type], cursor, count, true)));
  if (answers.every((answer) => Object.values(answer.counts).every((n) => n === 0))) return undefined;
  return answers.map((answer, i) => {
    const [type, cursor] = wanted[i]!;
    const end = cursor + answer.items.length;
    return { items: answer.items.map((item) => ({ key: item.key, value: item.value })), next: end < (answer.counts[TAG[type]] ?? 0) ? end : 0 };
  });
}

/** BullMQ's getDependencies: everything without options; with options, a page of each type asked for. */
export async function dependencies(state: StateClient, parent: ParentRef, known: DependencySnapshot | undefined, opts: DependenciesOpts = {}): Promise<Dependencies> {
  const wanted = DEPENDENCY_TYPES.filter((type) => opts[type] !== undefined).map((type): [DependencyType, number, number] => [type, Math.max(0, opts[type]!.cursor ?? 0), Math.max(0, opts[type]!.count ?? DEFAULT_COUNT)]);
  if (wanted.length === 0) {
    const { processed, unprocessed, failed, ignored } = await currentSnapshot(state, parent, known);
    return { processed, unprocessed, failed, ignored };
  }
  let pages = known === undefined ? await pagesOfTable(state, parent, wanted) : undefined;
  if (pages === undefined) {
    const snapshot = known ?? (await recordedSnapshot(state, parent));
    pages = wanted.map(([type, cursor, count]) => pageOfSnapshot(snapshot, type, cursor, count));
  }
  const answer: Record<string, unknown> = {};
  wanted.forEach(([type], i) => {
    const page = pages[i]!;
    // processed and ignored map keys to values (return values, reasons); unprocessed and failed list keys.
    answer[type] = type === 'processed' || type === 'ignored' ? Object.fromEntries(page.items.map((item) => [item.key, item.value])) : page.items.map((item) => item.key);
    answer[`next${type[0]!.toUpperCase()}${type.slice(1)}Cursor`] = page.next;
  });
  return answer as Dependencies;
}
