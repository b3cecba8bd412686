/**
 * Every version of every group API over a real Kafka listener, byte by byte (the real clients in the
 * other tests use only some versions each): find the coordinator, join (with MEMBER_ID_REQUIRED from
 * v4), sync, heartbeat, describe, list, commit, fetch and leave, classic and flexible encodings.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '../../../src/kafka/protocol/reader.js';
import { Writer } from '../../../src/kafka/protocol/writer.js';
import { RawKafkaClient, startKafkaWarren, type KafkaWarren } from './harness.js';

let warren: KafkaWarren;
let client: RawKafkaClient;
before(async () => {
  warren = await startKafkaWarren();
  client = await RawKafkaClient.connect(warren.kafkaPort);
});
after(async () => {
  client.close();
  await warren.close();
});

const FLEXIBLE_FROM: Record<number, number> = { 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3 };
const MAX: Record<number, number> = { 8: 8, 9: 8, 10: 4, 11: 9, 12: 4, 13: 5, 14: 5, 15: 5, 16: 4 };
let correlation = 0;

/** Sends one request; resolves to a reader at the response body (after the response header). */
async function call(key: number, version: number, body: (w: Writer) => void): Promise<Reader> {
  const flexible = version >= FLEXIBLE_FROM[key]!;
  const w = new Writer(flexible);
  body(w);
  const id = ++correlation;
  client.request(key, version, id, w.toBuffer(), flexible);
  const frame = await client.next();
  assert.ok(frame, `api ${key} v${version}: an answer`);
  const r = new Reader(frame, flexible);
  assert.equal(r.int32(), id);
  r.taggedFields();
  return r;
}

function throttle(r: Reader, version: number, from: number): void {
  if (version >= from) assert.equal(r.int32(), 0);
}

test('every version of the group APIs, classic and flexible', async () => {
  for (let step = 0; step <= 9; step++) {
    const v = (key: number): number => Math.min(step, MAX[key]!);
    const group = `wire-${step}`;

    // FindCoordinator: this node.
    let r = await call(10, v(10), (w) => {
      if (v(10) >= 4) w.int8(0).array([group], (e, k) => e.string(k));
      else {
        w.string(group);
        if (v(10) >= 1) w.int8(0);
      }
      w.taggedFields();
    });
    throttle(r, v(10), 1);
    if (v(10) >= 4) {
      assert.equal(r.arrayLength(), 1);
      assert.equal(r.string(), group);
    } else {
      assert.equal(r.int16(), 0);
      if (v(10) >= 1) assert.equal(r.nullableString(), null);
    }
    assert.equal(r.int32(), 0, 'node id');
    assert.equal(r.string(), '127.0.0.1');
    assert.equal(r.int32(), warren.kafkaPort);

    // JoinGroup (twice from v4: the first answer is MEMBER_ID_REQUIRED with the id to use).
    const join = (memberId: string) =>
      call(11, v(11), (w) => {
        w.string(group).int32(10_000);
        if (v(11) >= 1) w.int32(10_000);
        w.string(memberId);
        if (v(11) >= 5) w.nullableString(null);
        w.string('consumer');
        w.array([{ name: 'range', metadata: Buffer.from('m') }], (e, p) => {
          e.string(p.name).bytes(p.metadata);
          e.taggedFields();
        });
        if (v(11) >= 8) w.nullableString('testing');
        w.taggedFields();
      });
    const readJoin = (rr: Reader) => {
      throttle(rr, v(11), 2);
      const error = rr.int16();
      const generation = rr.int32();
      const protocolType = v(11) >= 7 ? rr.nullableString() : 'consumer';
      const protocolName = v(11) >= 7 ? rr.nullableString() : rr.string();
      const leader = rr.string();
      const skip = v(11) >= 9 ? rr.boolean() : false;
      const memberId = rr.string();
      const members = rr.array((e) => {
        const id = e.string();
        const instance = v(11) >= 5 ? e.nullableString() : null;
        const metadata = e.bytes()?.toString();
        e.taggedFields();
        return { id, instance, metadata };
      });
      rr.taggedFields();
      assert.equal(rr.remaining, 0);
      return { error, generation, protocolType, protocolName, leader, skip, memberId, members };
    };
    let joined = readJoin(await join(''));
    if (v(11) >= 4) {
      assert.equal(joined.error, 79, 'MEMBER_ID_REQUIRED');
      assert.match(joined.memberId, /^raw-/);
      joined = readJoin(await join(joined.memberId));
    }
    assert.equal(joined.error, 0, `JoinGroup v${v(11)}`);
    assert.equal(joined.generation, 1);
    assert.equal(joined.protocolName, 'range');
    assert.equal(joined.protocolType, 'consumer');
    assert.equal(joined.leader, joined.memberId);
    assert.equal(joined.skip, false);
    assert.deepEqual(joined.members, [{ id: joined.memberId, instance: null, metadata: 'm' }]);
    const me = joined.memberId;

    // SyncGroup: the leader's own part comes back.
    r = await call(14, v(14), (w) => {
      w.string(group).int32(1).string(me);
      if (v(14) >= 3) w.nullableString(null);
      if (v(14) >= 5) w.nullableString('consumer').nullableString('range');
      w.array([me], (e, id) => {
        e.string(id).bytes(Buffer.from('assigned'));
        e.taggedFields();
      });
      w.taggedFields();
    });
    throttle(r, v(14), 1);
    assert.equal(r.int16(), 0, `SyncGroup v${v(14)}`);
    if (v(14) >= 5) {
      assert.equal(r.nullableString(), 'consumer');
      assert.equal(r.nullableString(), 'range');
    }
    assert.equal(r.bytes()?.toString(), 'assigned');

    // Heartbeat: fine; with a wrong generation ILLEGAL_GENERATION.
    for (const [generation, expected] of [[1, 0], [7, 22]] as const) {
      r = await call(12, v(12), (w) => {
        w.string(group).int32(generation).string(me);
        if (v(12) >= 3) w.nullableString(null);
        w.taggedFields();
      });
      throttle(r, v(12), 1);
      assert.equal(r.int16(), expected, `Heartbeat v${v(12)}`);
    }

    // DescribeGroups: Stable, with the member, its metadata and assignment; an unknown group is Dead.
    r = await call(15, v(15), (w) => {
      w.array([group, 'no-such-group'], (e, g) => e.string(g));
      if (v(15) >= 3) w.boolean(false);
      w.taggedFields();
    });
    throttle(r, v(15), 1);
    const described = r.array((g) => {
      const error = g.int16();
      const id = g.string();
      const state = g.string();
      const type = g.string();
      const protocol = g.string();
      const members = g.array((m) => {
        const memberId = m.string();
        if (v(15) >= 4) m.nullableString();
        const row = { memberId, clientId: m.string(), host: m.string(), metadata: m.bytes()?.toString(), assignment: m.bytes()?.toString() };
        m.taggedFields();
        return row;
      });
      if (v(15) >= 3) g.int32();
      g.taggedFields();
      return { error, id, state, type, protocol, members };
    });
    assert.deepEqual(described, [
      { error: 0, id: group, state: 'Stable', type: 'consumer', protocol: 'range', members: [{ memberId: me, clientId: 'raw', host: '/127.0.0.1', metadata: 'm', assignment: 'assigned' }] },
      { error: 0, id: 'no-such-group', state: 'Dead', type: '', protocol: '', members: [] },
    ]);

    // ListGroups (v4: filtered by state, case-blind).
    r = await call(16, v(16), (w) => {
      if (v(16) >= 4) w.array(['stable'], (e, s) => e.string(s));
      w.taggedFields();
    });
    throttle(r, v(16), 1);
    assert.equal(r.int16(), 0);
    const listed = r.array((g) => {
      const row = { id: g.string(), type: g.string(), state: v(16) >= 4 ? g.string() : 'Stable' };
      g.taggedFields();
      return row;
    });
    assert.ok(listed.some((g) => g.id === group && g.type === 'consumer' && g.state === 'Stable'), JSON.stringify(listed));

    // OffsetCommit to a topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION for that partition.
    r = await call(8, v(8), (w) => {
      w.string(group);
      if (v(8) >= 1) w.int32(1).string(me);
      if (v(8) >= 2 && v(8) <= 4) w.int64(-1n);
      if (v(8) >= 7) w.nullableString(null);
      w.array(['no-such-topic'], (t, name) => {
        t.string(name);
        t.array([0], (p, index) => {
          p.int32(index).int64(5n);
          if (v(8) >= 6) p.int32(-1);
          if (v(8) === 1) p.int64(-1n);
          p.nullableString('meta');
          p.taggedFields();
        });
        t.taggedFields();
      });
      w.taggedFields();
    });
    throttle(r, v(8), 3);
    const committed = r.array((t) => {
      const name = t.string();
      const partitions = t.array((p) => {
        const row = [p.int32(), p.int16()];
        p.taggedFields();
        return row;
      });
      t.taggedFields();
      return { name, partitions };
    });
    // v0 names no member: refused (UNKNOWN_MEMBER_ID) while the group has members, as in Kafka.
    assert.deepEqual(committed, [{ name: 'no-such-topic', partitions: [[0, v(8) === 0 ? 25 : 3]] }], `OffsetCommit v${v(8)}`);

    // OffsetFetch: nothing committed there (-1).
    r = await call(9, v(9), (w) => {
      const topics = (ww: Writer) =>
        ww.array(['no-such-topic'], (t, name) => {
          t.string(name).array([0], (p, i) => p.int32(i));
          t.taggedFields();
        });
      if (v(9) >= 8) {
        w.array([group], (g, id) => {
          g.string(id);
          topics(g);
          g.taggedFields();
        });
      } else {
        w.string(group);
        topics(w);
      }
      if (v(9) >= 7) w.boolean(false);
      w.taggedFields();
    });
    throttle(r, v(9), 3);
    const readTopics = (rr: Reader) =>
      rr.array((t) => {
        const name = t.string();
        const partitions = t.array((p) => {
          const index = p.int32();
          const offset = p.int64Number();
          if (v(9) >= 5) assert.equal(p.int32(), -1);
          const row = { index, offset, metadata: p.nullableString(), error: p.int16() };
          p.taggedFields();
          return row;
        });
        t.taggedFields();
        return { name, partitions };
      });
    const expected = [{ name: 'no-such-topic', partitions: [{ index: 0, offset: -1, metadata: '', error: 0 }] }];
    if (v(9) >= 8) {
      assert.equal(r.arrayLength(), 1);
      assert.equal(r.string(), group);
      assert.deepEqual(readTopics(r), expected);
      assert.equal(r.int16(), 0);
      r.taggedFields();
    } else {
      assert.deepEqual(readTopics(r), expected, `OffsetFetch v${v(9)}`);
      if (v(9) >= 2) assert.equal(r.int16(), 0);
    }

    // LeaveGroup: the group is Empty afterwards.
    r = await call(13, v(13), (w) => {
      w.string(group);
      if (v(13) >= 3) {
        w.array([me], (e, id) => {
          e.string(id).nullableString(null);
          if (v(13) >= 5) e.nullableString('done');
          e.taggedFields();
        });
      } else w.string(me);
      w.taggedFields();
    });
    throttle(r, v(13), 1);
    assert.equal(r.int16(), 0);
    if (v(13) >= 3) {
      assert.equal(r.arrayLength(), 1);
      assert.equal(r.string(), me);
      assert.equal(r.nullableString(), null);
      assert.equal(r.int16(), 0);
    }
  }
});

test('a group request with a lying length closes only that connection', async () => {
  const other = await RawKafkaClient.connect(warren.kafkaPort);
  // JoinGroup v5 whose group id claims 30000 bytes.
  other.request(11, 5, 1, Buffer.from([0x75, 0x30, 0x41]));
  assert.equal(await other.next(2000), undefined);
  assert.ok(other.closed);
  const r = await call(16, 0, () => {});
  assert.equal(r.int16(), 0, 'the other connection still works');
});
