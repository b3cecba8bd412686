/**
 * A real Celery worker (solo pool, task events on, mingle and gossip on) consuming from Warren, and a
 * second process sending tasks with .delay()/.apply_async() and reading results through the rpc://
 * backend: results, failures, retries, countdowns, groups, chains and a broadcast control ping.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CLIENTS_DIR,
  PYTHON,
  assertAllConnectionsClosed,
  assertSteps,
  brokerFor,
  clientEnvironment,
  missingPythonModule,
  runClient,
  startClient,
} from './compat-helpers.js';

const skip = missingPythonModule('celery', 'python3-celery');

test('a Celery worker runs tasks sent through Warren and returns results over rpc://', { skip, timeout: 60_000 }, async (t) => {
  const broker = await brokerFor(t);
  const worker = startClient(
    t,
    PYTHON,
    ['-m', 'celery', '-A', 'tasks', 'worker', '--pool=solo', '-c', '1', '-E', '-l', 'info', '-n', 'compat@localhost'],
    { cwd: join(CLIENTS_DIR, 'celery_app'), env: clientEnvironment({ COMPAT_BROKER_URL: broker.url }), timeoutMs: 50_000 },
  );
  await worker.waitForOutput(/compat@localhost ready\./, 20_000);

  const result = await runClient(t, PYTHON, ['celery_client.py', broker.url], { timeoutMs: 40_000 });
  assertSteps(result, ['delay', 'apply-async', 'payload-types', 'failure', 'retry', 'countdown', 'group', 'chain', 'control-ping']);

  worker.kill('SIGTERM'); // warm shutdown: the worker closes its connections and exits 0
  const ended = await worker.result;
  assert.equal(ended.code, 0, `worker did not shut down cleanly\n${worker.describe()}`);
  const log = ended.stderr;
  const succeeded = log.match(/Task tasks\.\w+\[[^\]]+\] succeeded/g) ?? [];
  // 1 delay + 20 apply_async + 5 payload types + 1 flaky + 1 countdown + 5 group members + 3 chain links
  assert.equal(succeeded.length, 36, `tasks the worker reports as succeeded\n${worker.describe()}`);
  const unexpected = log
    .split('\n')
    .filter((line) => /(ERROR|CRITICAL)\//.test(line) && !/Task tasks\.fail\[/.test(line));
  assert.deepEqual(unexpected, [], `worker logged errors\n${worker.describe()}`);
  await assertAllConnectionsClosed(broker);
});
