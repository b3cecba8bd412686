import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryAlarm, memoryLimitBytes } from '../../../src/alarms/memory-alarm.js';
import { ResourceAlarms } from '../../../src/alarms/resource-alarms.js';

test('publishers stay blocked until every raised alarm has cleared', () => {
  const applied: (string | undefined)[] = [];
  const alarms = new ResourceAlarms((reason) => applied.push(reason));
  alarms.set('memory', true);
  alarms.set('disk', true);
  alarms.set('memory', false);
  alarms.set('memory', false); // no change, nothing applied
  alarms.set('disk', false);
  assert.deepEqual(applied, ['low on memory', 'low on disk & low on memory', 'low on disk', undefined]);
  assert.equal(alarms.blockedReason(), undefined);
});

test('the memory alarm fires on crossing the watermark and clears below it, once per change', () => {
  let used = 100;
  const changes: [boolean, number][] = [];
  const alarm = new MemoryAlarm({ limitBytes: 1000, usedBytes: () => used, onChange: (a, u) => changes.push([a, u]) });
  alarm.check();
  used = 1000;
  alarm.check();
  used = 1500;
  alarm.check();
  used = 999;
  alarm.check();
  assert.deepEqual(changes, [
    [true, 1000],
    [false, 999],
  ]);
  assert.equal(alarm.active, false);
});

test("the watermark is a share of the machine's memory", () => {
  assert.equal(memoryLimitBytes(0.4, 1000), 400);
  assert.equal(memoryLimitBytes(1, 4096), 4096);
});

test('a memory reading that fails (EMFILE: no descriptor left to open /proc/self/stat) keeps the last state', () => {
  let used: number | Error = 2000;
  const changes: Array<[boolean, number]> = [];
  const alarm = new MemoryAlarm({ limitBytes: 1000, usedBytes: () => { if (used instanceof Error) throw used; return used; }, onChange: (a, u) => changes.push([a, u]) });
  alarm.check();
  used = Object.assign(new Error('EMFILE: too many open files, uv_resident_set_memory'), { code: 'EMFILE' });
  assert.doesNotThrow(() => alarm.check());
  assert.deepEqual([alarm.active, alarm.lastUsedBytes], [true, 2000]);
  used = 10;
  alarm.check();
  assert.deepEqual(changes, [[true, 2000], [false, 10]]);
});
