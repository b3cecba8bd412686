import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placementKey, rendezvousOwner } from '../../../src/cluster/placement.js';

const queues = Array.from({ length: 3000 }, (_, i) => placementKey('/', `q${i}`));

test('rendezvous placement spreads queues evenly over the nodes', () => {
  const counts = new Map<string, number>();
  for (const q of queues) {
    const owner = rendezvousOwner(q, ['n1', 'n2', 'n3'])!;
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  for (const node of ['n1', 'n2', 'n3']) {
    const share = (counts.get(node) ?? 0) / queues.length;
    assert.ok(share > 0.28 && share < 0.39, `${node} owns ${share}`);
  }
});

test('when a node dies only its queues move; when it comes back exactly those would return', () => {
  for (const q of queues) {
    const before = rendezvousOwner(q, ['n1', 'n2', 'n3'])!;
    const after = rendezvousOwner(q, ['n1', 'n3'])!;
    if (before !== 'n2') assert.equal(after, before, `${q} moved although its owner lived`);
    assert.equal(rendezvousOwner(q, ['n3', 'n1', 'n2']), before, 'the order of the node list does not matter');
  }
});

test('no living node, no owner', () => {
  assert.equal(rendezvousOwner(queues[0]!, []), undefined);
});
