import { jobPublishSpec } from './publish-spec.js';
import type { StateClient } from './state-client.js';
import { childKey, dependencyTable, names, type JobRecord, type JobsOptions, type JobWire, type ParentRef } from './types.js';

/**
 * How a flow's parent learns of its children (BullMQ's FlowProducer semantics on Warren's records).
 * A parent waits in state `waiting-children`; its dependencies are a record table of their own, one
 * record per child with the child's fate as the tag: `pending`, `processed` (value: the return value),
 * `failed` (blocks the parent, BullMQ's default), `ignored` (ignoreDependencyOnFailure; value: the
 * reason); removeDependencyOnFailure deletes the record. When no dependency is pending or failed, the
 * parent is moved to waiting and its message published in one conditional put, so of two children
 * finishing at once on two workers exactly one releases it.
 *
 * A worker updates the dependency BEFORE it writes the child's own result and acks: a crash in
 * between runs the child again (at least once) and repeats the update, instead of leaving a completed
 * child whose parent never heard of it.
 */
export async function childProcessed(state: StateClient, queue: string, id: string, opts: JobsOptions, result: unknown): Promise<void> {
  const parent = opts.parent;
  if (parent === undefined) return;
  await state.run({ table: dependencyTable(parent), op: 'put', key: childKey(queue, id), tag: 'processed', value: result ?? null });
  await releaseIfReady(state, parent);
}

/** A child failed for good (attempts used up, or unrecoverable): its parent's failure policy applies. */
export async function childFailed(state: StateClient, queue: string, id: string, opts: JobsOptions, reason: string): Promise<void> {
  const parent = opts.parent;
  if (parent === undefined) return;
  const table = dependencyTable(parent);
  const key = childKey(queue, id);
  if (opts.failParentOnFailure === true) {
    await state.run({ table, op: 'put', key, tag: 'failed', value: reason });
    await failParent(state, parent, `child ${key} failed: ${reason}`);
  } else if (opts.ignoreDependencyOnFailure === true) {
    await state.run({ table, op: 'put', key, tag: 'ignored', value: reason });
    await releaseIfReady(state, parent);
  } else if (opts.removeDependencyOnFailure === true) {
    await state.run({ table, op: 'delete', key });
    await releaseIfReady(state, parent);
  } else {
    // BullMQ's default: the parent stays waiting for its children, the failure is visible in its dependencies.
    await state.run({ table, op: 'put', key, tag: 'failed', value: reason });
  }
}

async function releaseIfReady(state: StateClient, parent: ParentRef): Promise<void> {
  const { counts } = await state.listIn(dependencyTable(parent), undefined, 0, 0, true);
  if ((counts['pending'] ?? 0) > 0 || (counts['failed'] ?? 0) > 0) return;
  const table = names(parent.queue).table;
  const current = (await state.run<JobRecord>({ table, op: 'get', key: parent.id })).current;
  if (current === undefined || current.tag !== 'waiting-children') return;
  const value = current.value;
  const wire: JobWire = { id: parent.id, name: value.name, data: value.data, opts: value.opts, timestamp: value.timestamp, attemptsMade: value.attemptsMade };
  await state.run({ table, op: 'put', key: parent.id, tag: 'waiting', value, ifTagIn: ['waiting-children'], publish: jobPublishSpec(parent.queue, wire, 0) });
}

/** failParentOnFailure: the parent fails without running; its own parent's policy applies in turn. */
async function failParent(state: StateClient, parent: ParentRef, reason: string): Promise<void> {
  const table = names(parent.queue).table;
  const current = (await state.run<JobRecord>({ table, op: 'get', key: parent.id })).current;
  if (current === undefined || current.tag !== 'waiting-children') return;
  const value: JobRecord = { ...current.value, failedReason: reason, finishedOn: Date.now(), ...(await dependencyResults(state, parent)) };
  const moved = await state.run({ table, op: 'put', key: parent.id, tag: 'failed', value, ifTagIn: ['waiting-children'] });
  if (!moved.ok) return;
  await state.drop(dependencyTable(parent));
  await childFailed(state, parent.queue, parent.id, value.opts, reason);
}

/** The children's results and ignored failures of a parent, from its dependency table. */
export async function dependencyResults(state: StateClient, parent: ParentRef): Promise<{ childrenValues: Record<string, unknown>; ignoredFailures: Record<string, string> }> {
  const table = dependencyTable(parent);
  const [processed, ignored] = await Promise.all([state.listIn(table, 'processed', 0, 10_000, true), state.listIn<string>(table, 'ignored', 0, 10_000, true)]);
  return {
    childrenValues: Object.fromEntries(processed.items.map((item) => [item.key, item.value])),
    ignoredFailures: Object.fromEntries(ignored.items.map((item) => [item.key, item.value])),
  };
}

/** BullMQ's getDependenciesCount: children processed, not yet processed, ignored and failed. */
export async function dependencyCounts(state: StateClient, parent: ParentRef): Promise<{ processed: number; unprocessed: number; ignored: number; failed: number }> {
  const { counts } = await state.listIn(dependencyTable(parent), undefined, 0, 0, true);
  return { processed: counts['processed'] ?? 0, unprocessed: counts['pending'] ?? 0, ignored: counts['ignored'] ?? 0, failed: counts['failed'] ?? 0 };
}
