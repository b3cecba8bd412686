import test from 'node:test';
import assert from 'node:assert/strict';
import { Message, type BasicProperties } from '../../../../src/broker/message.js';
import { Entry, EntryState } from '../../../../src/broker/queue/entry.js';
import { GroupedReady } from '../../../../src/broker/queue/message-groups.js';
import { PriorityReady } from '../../../../src/broker/queue/priority-ready.js';
import type { Queue } from '../../../../src/broker/queue/queue.js';
import { FifoReady, type ReadyEntries } from '../../../../src/broker/queue/ready-entries.js';

/** Ready lists never look at an entry's queue, so a stand-in does. */
const owner = {} as Queue;
let seq = 0;
function entry(body: string, properties: BasicProperties = {}): Entry {
  return new Entry(owner, ++seq, new Message('', 'q', properties, Buffer.from(body)));
}
const bodyOf = (e: Entry | undefined): string | undefined => e?.message.body.toString();

function takeAll(ready: ReadyEntries): string[] {
  const out: string[] = [];
  for (let e = ready.take(); e !== undefined; e = ready.take()) out.push(bodyOf(e)!);
  return out;
}

test('FifoReady: tombstones are skipped and not counted', () => {
  const ready = new FifoReady();
  const entries = ['a', 'b', 'c', 'd'].map((b) => entry(b));
  for (const e of entries) ready.push(e);
  entries[1]!.state = EntryState.Settled;
  ready.discard(entries[1]!);
  entries[3]!.state = EntryState.Settled;
  ready.discard(entries[3]!);
  assert.equal(ready.length, 2);
  assert.deepEqual(ready.browse(0, 10).map(bodyOf), ['a', 'c']);
  assert.deepEqual(ready.browse(1, 10).map(bodyOf), ['c']);
  assert.deepEqual(takeAll(ready), ['a', 'c']);
  assert.equal(ready.length, 0);
  assert.equal(ready.hasDeliverable(), false);
});

test('PriorityReady: levels, cap at max, put back in place, drop-head from the lowest level', () => {
  const ready = new PriorityReady(3);
  const low1 = entry('low1');
  const high = entry('high', { priority: 3 });
  const capped = entry('capped', { priority: 99 });
  const low2 = entry('low2', { priority: 0 });
  for (const e of [low1, high, capped, low2]) ready.push(e);
  assert.equal(ready.take(), high);
  ready.putBack(high);
  assert.deepEqual(ready.browse(0, 10).map(bodyOf), ['high', 'capped', 'low1', 'low2']);
  assert.equal(ready.takeOldest(), low1);
  assert.deepEqual(takeAll(ready), ['high', 'capped', 'low2']);
});

test('GroupedReady: a busy group is skipped until released; ungrouped entries never wait', () => {
  const ready = new GroupedReady('g');
  const a1 = entry('a1', { headers: { g: 'A' } });
  const a2 = entry('a2', { headers: { g: 'A' } });
  const b1 = entry('b1', { headers: { g: 'B' } });
  const free1 = entry('free1');
  const free2 = entry('free2');
  for (const e of [a1, a2, b1, free1, free2]) ready.push(e);
  assert.equal(ready.take(), a1);
  assert.equal(ready.take(), b1);
  assert.equal(ready.take(), free1);
  assert.equal(ready.take(), free2);
  assert.equal(ready.hasDeliverable(), false, 'A and B are busy');
  assert.equal(ready.length, 1);
  ready.release(b1); // B has nothing left: forgotten
  assert.equal(ready.groupCount, 1);
  ready.putBack(a1); // requeue: back in front of a2, then released
  ready.release(a1);
  assert.equal(ready.take(), a1);
  ready.release(a1);
  assert.equal(ready.take(), a2);
  ready.release(a2);
  assert.equal(ready.groupCount, 0, 'idle groups do not accumulate');
});

test('GroupedReady: idle groups are kept for their next message, and swept before they pile up', () => {
  const ready = new GroupedReady('g');
  const cycle = (key: string): Entry => {
    const e = entry(key, { headers: { g: key } });
    ready.push(e);
    assert.equal(ready.take(), e);
    ready.release(e);
    return e;
  };
  cycle('A');
  assert.equal(ready.groupCount, 0, 'an idle group is not counted as active');
  assert.equal(ready.keptGroupCount, 1, 'but kept for its next message');
  cycle('A');
  assert.equal(ready.keptGroupCount, 1, 'and reused by it');
  for (let i = 0; i < 50_000; i++) cycle(`k${i}`);
  assert.equal(ready.groupCount, 0);
  assert.ok(ready.keptGroupCount <= 4097, `idle groups are swept (kept ${ready.keptGroupCount})`);
  // A kept group still orders its messages: the second waits while the first is out.
  const b1 = entry('b1', { headers: { g: 'k49999' } });
  const b2 = entry('b2', { headers: { g: 'k49999' } });
  ready.push(b1);
  ready.push(b2);
  assert.equal(ready.take(), b1);
  assert.equal(ready.take(), undefined, 'b2 waits for b1');
  ready.release(b1);
  assert.equal(ready.take(), b2);
});

test('GroupedReady: takeOldest picks the oldest head across groups; browse lists by arrival', () => {
  const ready = new GroupedReady('g');
  const x = entry('x', { headers: { g: 'X' } });
  const y = entry('y', { headers: { g: 'Y' } });
  const x2 = entry('x2', { headers: { g: 'X' } });
  for (const e of [x, y, x2]) ready.push(e);
  assert.deepEqual(ready.browse(0, 5).map(bodyOf), ['x', 'y', 'x2']);
  assert.equal(ready.takeOldest(), x);
  assert.equal(ready.takeOldest(), y);
  assert.deepEqual(ready.clear().map(bodyOf), ['x2']);
  assert.equal(ready.length, 0);
});
