import { test } from 'node:test';
import assert from 'node:assert/strict';

test("'warren/jobs' resolves through package.json exports (self-reference) with BullMQ's class names", async () => {
  const jobs = (await import('warren/jobs' as string)) as Record<string, unknown>;
  for (const name of ['Queue', 'Worker', 'QueueEvents', 'Job', 'UnrecoverableError']) assert.equal(typeof jobs[name], 'function', name);
  const root = (await import('warren' as string)) as Record<string, unknown>;
  assert.equal(typeof root['WarrenServer'], 'function');
});
