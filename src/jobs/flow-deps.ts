import { snapshotOf } from './dependencies.js';
import { jobPublishSpec } from './publish-spec.js';
import type { RecordOp, StateClient } from './state-client.js';
import { childKey, dependencyTable, names, type JobRecord, type JobsOptions, type JobWire, type ParentRef } from './types.js';

/**
 * How a flow's parent learns of its children (BullMQ's FlowProducer semantics on Warren's records).
 * A parent waits in state `waiting-children`; its dependencies are a record table of their own, one
 * record per child with the child's fate as the tag: `pending`, `processed` (value: the return value),
 * `failed` (blocks the parent: failParentOnFailure, or BullMQ's default), `ignored` (value: the reason;
 * ignoreDependencyOnFailure and continueParentOnFailure); removeDependencyOnFailure deletes the record.
 * A child's update is conditional on the child still being pending (or failed, for a retried child),
 * so a child finishing after its parent left waiting-children writes nothing (no table comes back).
 *
 * The parent leaves waiting-children (to waiting, to delayed when it has a delay, counted from now as
 * in BullMQ, or to failed) in one batch: the conditional move, its message, the snapshot of its
 * dependencies in its record, and the deletion of every dependency record. Of two children finishing
 * at once on two workers exactly one move holds; nothing is left to clean up after the parent runs.
 *
 * A worker updates the dependency BEFORE it writes the child's own result and acks: a crash in
 * between runs the child again (at least once) and repeats the release check, instead of leaving a
 * completed child whose parent never heard of it.
 */
export async function childProcessed(state: StateClient, queue: string, id: string, opts: JobsOptions, result: unknown): Promise<void> {
  const parent = opts.parent;
  if (parent === undefined) return;
  await state.run({ table: dependencyTable(parent), op: 'put', key: childKey(queue, id), tag: 'processed', value: result ?? null, ifTagIn: ['pending', 'failed'] });
  await releaseIfReady(state, parent);
}

/** A child failed for good (attempts used up, or unrecoverable): its parent's failure policy applies. */
export async function childFailed(state: StateClient, queue: string, id: string, opts: JobsOptions, reason: string): Promise<void> {
  const parent = opts.parent;
  if (parent === undefined) return;
  const mark = (tag: 'failed' | 'ignored') => state.run({ table: dependencyTable(parent), op: 'put', key: childKey(queue, id), tag, value: reason, ifTagIn: ['pending'] });
  if (opts.failParentOnFailure === true) {
    await mark('failed');
    await failParent(state, parent, `child ${childKey(queue, id)} failed: ${reason}`);
  } else if (opts.continueParentOnFailure === true) {
    await mark('ignored');
    await leaveWaitingChildren(state, parent, { to: 'run' });
  } else if (opts.ignoreDependencyOnFailure === true) {
    await mark('ignored');
    await releaseIfReady(state, parent);
  } else if (opts.removeDependencyOnFailure === true) {
    await state.run({ table: dependencyTable(parent), op: 'delete', key: childKey(queue, id), ifTagIn: ['pending'] });
    await releaseIfReady(state, parent);
  } else {
    // BullMQ's default: the parent stays waiting for its children, the failure is visible in its dependencies.
    await mark('failed');
  }
}

/** Starts the parent if no dependency is pending or failed (also after removeUnprocessedChildren). */
export async function releaseIfReady(state: StateClient, parent: ParentRef): Promise<void> {
  const { counts } = await state.listIn(dependencyTable(parent), undefined, 0, 0, true);
  if ((counts['pending'] ?? 0) > 0 || (counts['failed'] ?? 0) > 0) return;
  await leaveWaitingChildren(state, parent, { to: 'run' });
}

/** failParentOnFailure: the parent fails without running; its own parent's policy applies in turn. */
async function failParent(state: StateClient, parent: ParentRef, reason: string): Promise<void> {
  const failed = await leaveWaitingChildren(state, parent, { to: 'fail', reason });
  if (failed !== undefined) await childFailed(state, parent.queue, parent.id, failed.opts, reason);
}

/**
 * The one move out of waiting-children, as one batch (see above). Returns the parent's new record if
 * this move held (undefined: not waiting for children any more, or another move came first).
 */
async function leaveWaitingChildren(state: StateClient, parent: ParentRef, how: { to: 'run' } | { to: 'fail'; reason: string }): Promise<JobRecord | undefined> {
  const table = names(parent.queue).table;
  const current = (await state.run<JobRecord>({ table, op: 'get', key: parent.id })).current;
  if (current === undefined || current.tag !== 'waiting-children') return undefined;
  const deps = await state.listAllIn(dependencyTable(parent));
  const now = Date.now();
  const value: JobRecord = { ...current.value, dependencies: snapshotOf(deps) };
  let move: RecordOp;
  if (how.to === 'fail') {
    Object.assign(value, { failedReason: how.reason, finishedOn: now });
    move = { table, op: 'put', key: parent.id, tag: 'failed', value, ifTagIn: ['waiting-children'] };
  } else {
    const delay = Math.max(0, value.opts.delay ?? 0);
    if (delay > 0) value.delayUntil = now + delay;
    const wire: JobWire = { id: parent.id, name: value.name, data: value.data, opts: value.opts, timestamp: value.timestamp, attemptsMade: value.attemptsMade };
    move = { table, op: 'put', key: parent.id, tag: delay > 0 ? 'delayed' : 'waiting', value, ifTagIn: ['waiting-children'], publish: jobPublishSpec(parent.queue, wire, delay) };
  }
  const clear: RecordOp[] = deps.map((dep) => ({ table: dependencyTable(parent), op: 'delete', key: dep.key }));
  const [moved] = await state.batch([move, ...clear]);
  return moved?.ok === true ? value : undefined;
}
