import { recordedSnapshot } from './dependencies.js';
import { releaseIfReady } from './flow-deps.js';
import type { StateClient } from './state-client.js';
import { dependencyTable, names, parseChildKey, type DependencySnapshot, type ParentRef } from './types.js';

/** The states of a child that has not started: BullMQ removes those (never an active or finished one). */
const UNSTARTED = ['waiting', 'delayed', 'waiting-children'];

/**
 * BullMQ's removeUnprocessedChildren. Each removal is a conditional delete of the child's record, so a
 * worker taking the child at the same moment either finds it gone (and drops its message) or keeps it
 * (the delete is refused). A removed child that waited for children of its own takes its unstarted
 * ones with it. Returns the parent's new snapshot when the parent had left waiting-children (the
 * caller stores it); a parent still waiting loses the dependency records and is released if nothing
 * else is pending, as in BullMQ.
 */
export async function removeUnprocessedChildren(state: StateClient, parent: ParentRef, known: DependencySnapshot | undefined): Promise<DependencySnapshot | undefined> {
  const live = known === undefined ? await state.listAllIn(dependencyTable(parent), 'pending') : [];
  if (live.length > 0) {
    const removed = await removeEach(state, live.map((record) => record.key));
    await Promise.all(removed.map((key) => state.run({ table: dependencyTable(parent), op: 'delete', key, ifTagIn: ['pending'] })));
    await releaseIfReady(state, parent);
    return undefined;
  }
  const snapshot = known ?? (await recordedSnapshot(state, parent));
  const removed = new Set(await removeEach(state, snapshot.unprocessed));
  return { ...snapshot, unprocessed: snapshot.unprocessed.filter((key) => !removed.has(key)) };
}

/** Removes the unstarted children among `keys`; returns the keys of those removed. */
async function removeEach(state: StateClient, keys: readonly string[]): Promise<string[]> {
  const removed = await Promise.all(keys.map((key) => removeIfUnstarted(state, parseChildKey(key))));
  return keys.filter((_, i) => removed[i]);
}

async function removeIfUnstarted(state: StateClient, child: ParentRef): Promise<boolean> {
  const deleted = await state.run({ table: names(child.queue).table, op: 'delete', key: child.id, ifTagIn: UNSTARTED });
  if (!deleted.ok) return false;
  // A child that waited for its own children: theirs go too, then its dependency table.
  const grandchildren = await state.listAllIn(dependencyTable(child), 'pending');
  if (grandchildren.length === 0) return true;
  await removeEach(state, grandchildren.map((record) => record.key));
  await state.drop(dependencyTable(child));
  return true;
}
