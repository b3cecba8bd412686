import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../../src/broker/broker.js';
import { preconditionFailed } from '../../../src/broker/errors.js';
import { LogStore } from '../../../src/store/log-store.js';

const component = {
  name: 'test-component',
  validate(_vhost: string, _name: string, value: unknown): void {
    if (typeof value !== 'object' || value === null) throw preconditionFailed('value must be an object');
  },
};

test('runtime parameters, global parameters and operator policies survive a restart; deleted ones stay deleted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'warren-params-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = new Broker({ store: new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 }) });
  first.parameters.registerComponent(component);
  await first.start();
  first.addVhost('v');
  assert.equal(first.parameters.set('test-component', 'v', 'a', { x: 1 }), true);
  assert.equal(first.parameters.set('test-component', 'v', 'a', { x: 2 }), false, 'a replaced parameter is not new');
  first.parameters.set('test-component', '/', 'gone', { x: 3 });
  first.parameters.delete('test-component', '/', 'gone');
  first.parameters.setGlobal('cluster_name', 'east');
  first.parameters.set('operator_policy', 'v', 'cap', { pattern: '.*', definition: { 'max-length': 10 }, priority: 0, 'apply-to': 'queues' });
  assert.throws(() => first.parameters.set('test-component', 'v', 'bad', 7), /value must be an object/);
  assert.throws(() => first.parameters.set('nope', 'v', 'x', {}), /component_not_found/);
  assert.throws(
    () => first.parameters.set('operator_policy', 'v', 'bad', { pattern: '.*', definition: { 'message-ttl': -1 }, priority: 0, 'apply-to': 'queues' }),
    /not a valid value for 'message-ttl'/,
  );
  await new Promise<void>((resolve) => first.whenDurable(resolve));
  await first.stop();

  const second = new Broker({ store: new LogStore({ dataDir: dir, maintenanceIntervalMs: 0 }) });
  await second.start();
  t.after(() => second.stop());
  assert.deepEqual(
    second.parameters.list().map((p) => [p.component, p.vhost, p.name, p.value]),
    [
      ['operator_policy', 'v', 'cap', { pattern: '.*', definition: { 'max-length': 10 }, priority: 0, 'apply-to': 'queues' }],
      ['test-component', 'v', 'a', { x: 2 }],
    ],
  );
  assert.deepEqual(second.parameters.listGlobal(), [{ name: 'cluster_name', value: 'east' }]);
  second.deleteVhost('v');
  assert.deepEqual(second.parameters.list(), [], "a vhost's parameters go with it");
});
