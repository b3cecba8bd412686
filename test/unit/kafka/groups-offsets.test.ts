/**
 * Committed offsets over partition logs: a commit of N is stored as the stream convention's N - 1 under
 * the group id (what an AMQP consumer named like the group resumes after), answered after the
 * durability callback; fetches give N back, -1 when nothing is committed; metadata is kept; unknown
 * partitions and oversized metadata are refused per entry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommittedOffsets, MAX_METADATA_BYTES, type OffsetLog, type OffsetTopics } from '../../../src/kafka/groups/offsets.js';

class FakeLog implements OffsetLog {
  readonly stored = new Map<string, number>();
  storeOffset(reference: string, offset: number): void {
    this.stored.set(reference, offset);
  }
  storedOffset(reference: string): number | undefined {
    return this.stored.get(reference);
  }
}

function topics(): { topics: OffsetTopics; logs: FakeLog[] } {
  const logs = [new FakeLog(), new FakeLog()];
  return {
    logs,
    topics: {
      partition: (topic, index) => (topic === 't' ? (logs[index] === undefined ? undefined : { log: logs[index] }) : undefined),
      list: () => [{ name: 't', partitions: logs.map((log, index) => ({ index, log })) }],
    },
  };
}

test('a commit is stored as offset - 1 under the group id and answered only once durable', async () => {
  const { topics: t, logs } = topics();
  const waiting: Array<() => void> = [];
  const offsets = new CommittedOffsets((callback) => waiting.push(callback));
  let answered: string[] | undefined;
  const commit = offsets.commit(t, 'g', [
    { topic: 't', partition: 0, offset: 10, metadata: 'm' },
    { topic: 't', partition: 7, offset: 1, metadata: null },
    { topic: 'other', partition: 0, offset: 1, metadata: null },
    { topic: 't', partition: 1, offset: 0, metadata: 'x'.repeat(MAX_METADATA_BYTES + 1) },
  ]).then((errors) => (answered = errors));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(answered, undefined, 'not before the durability callback');
  assert.equal(logs[0]!.stored.get('g'), 9, 'the stream convention: the last offset done');
  waiting.shift()!();
  await commit;
  assert.deepEqual(answered, ['NONE', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION', 'OFFSET_METADATA_TOO_LARGE']);
  assert.deepEqual(offsets.fetch(t, 'g', 't', 0), { topic: 't', partition: 0, offset: 10, metadata: 'm', error: 'NONE' });
  assert.equal(offsets.fetch(t, 'g', 't', 1).offset, -1, 'nothing committed there');
  assert.equal(offsets.fetch(t, 'h', 't', 0).offset, -1, 'another group');
  assert.equal(offsets.fetch(t, 'g', 'nope', 0).offset, -1);
});

test('an AMQP ack stored under the group name is the group\'s commit (+1); fetchAll lists only what has an offset', async () => {
  const { topics: t, logs } = topics();
  const offsets = new CommittedOffsets((callback) => callback());
  logs[1]!.storeOffset('g', 41); // an AMQP consumer named "g" acked offset 41
  assert.deepEqual(offsets.fetchAll(t, 'g'), [{ topic: 't', partition: 1, offset: 42, metadata: '', error: 'NONE' }]);
  assert.deepEqual(await offsets.commit(t, 'g', [{ topic: 't', partition: 0, offset: 0, metadata: null }]), ['NONE']);
  assert.deepEqual(offsets.fetchAll(t, 'g').map((o) => [o.partition, o.offset]), [[0, 0], [1, 42]]);
  assert.equal(logs[0]!.stored.get('g'), -1, 'a commit of 0: nothing done yet, an AMQP consumer starts at 0');
});

test('a commit with nothing to store does not wait for durability', async () => {
  const { topics: t } = topics();
  const offsets = new CommittedOffsets(() => assert.fail('no durability wait for a commit that stored nothing'));
  assert.deepEqual(await offsets.commit(t, 'g', [{ topic: 'nope', partition: 0, offset: 1, metadata: null }]), ['UNKNOWN_TOPIC_OR_PARTITION']);
});
