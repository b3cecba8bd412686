/**
 * Fuzzing the group APIs' request decoders (every version, classic and flexible): random and
 * mostly-zero bytes must decode or throw KafkaDecodeError, nothing else. Then the same garbage through a
 * live listener: each request is answered or closes its own connection, and the broker keeps serving.
 * Seeded; set KAFKA_GROUPS_SEED to replay.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KafkaDecodeError, Reader } from '../../src/kafka/protocol/reader.js';
import { decodeDescribeGroups } from '../../src/kafka/groups/handlers/describe-groups.js';
import { decodeFindCoordinator } from '../../src/kafka/groups/handlers/find-coordinator.js';
import { decodeMemberGeneration } from '../../src/kafka/groups/handlers/heartbeat.js';
import { decodeJoinGroup } from '../../src/kafka/groups/handlers/join-group.js';
import { decodeLeaveGroup } from '../../src/kafka/groups/handlers/leave-group.js';
import { decodeListGroups } from '../../src/kafka/groups/handlers/list-groups.js';
import { decodeOffsetCommit } from '../../src/kafka/groups/handlers/offset-commit.js';
import { decodeOffsetFetch } from '../../src/kafka/groups/handlers/offset-fetch.js';
import { decodeSyncGroup } from '../../src/kafka/groups/handlers/sync-group.js';
import { groupApis } from '../../src/kafka/groups/apis.js';
import { RawKafkaClient, startKafkaWarren } from '../integration/kafka/harness.js';

const SEED = Number(process.env.KAFKA_GROUPS_SEED ?? Date.now() % 100_000);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random bytes, often small (so lengths and counts are plausible) and often zero (empty strings, arrays). */
function garbage(random: () => number): Buffer {
  const bytes = Buffer.alloc(Math.floor(random() * 64));
  const style = random();
  for (let i = 0; i < bytes.length; i++) {
    const dice = random();
    bytes[i] = style < 0.3 ? Math.floor(random() * 256) : dice < 0.5 ? 0 : dice < 0.8 ? Math.floor(random() * 4) : Math.floor(random() * 256);
  }
  return bytes;
}

const DECODERS: Record<number, (r: Reader, version: number) => unknown> = {
  8: decodeOffsetCommit,
  9: decodeOffsetFetch,
  10: decodeFindCoordinator,
  11: (r, v) => decodeJoinGroup(r, v, 'c', '/127.0.0.1'),
  12: (r, v) => {
    decodeMemberGeneration(r, v, 3);
    return r.taggedFields();
  },
  13: decodeLeaveGroup,
  14: decodeSyncGroup,
  15: decodeDescribeGroups,
  16: decodeListGroups,
};

test(`group request decoders take any bytes (seed ${SEED})`, () => {
  const random = rng(SEED);
  let decoded = 0;
  for (const api of groupApis) {
    const decode = DECODERS[api.key]!;
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      const flexible = api.flexibleFrom !== undefined && version >= api.flexibleFrom;
      for (let i = 0; i < 400; i++) {
        try {
          decode(new Reader(garbage(random), flexible), version);
          decoded++;
        } catch (error) {
          if (!(error instanceof KafkaDecodeError)) throw new Error(`${api.name} v${version}: ${String(error)}`);
        }
      }
    }
  }
  assert.ok(decoded > 0, 'some garbage is a valid request');
});

test(`garbage group requests on a live listener close only their own connection (seed ${SEED})`, async () => {
  const random = rng(SEED + 1);
  const warren = await startKafkaWarren();
  const witness = await RawKafkaClient.connect(warren.kafkaPort);
  try {
    for (let round = 0; round < 150; round++) {
      const api = groupApis[Math.floor(random() * groupApis.length)]!;
      const version = api.minVersion + Math.floor(random() * (api.maxVersion - api.minVersion + 1));
      const flexible = api.flexibleFrom !== undefined && version >= api.flexibleFrom;
      const client = await RawKafkaClient.connect(warren.kafkaPort);
      client.request(api.key, version, round, garbage(random), flexible);
      const answer = await client.next(1000);
      // A JoinGroup or SyncGroup that decoded may rightly be held (a rebalance waiting for other members).
      const mayBeHeld = api.key === 11 || api.key === 14;
      assert.ok(answer !== undefined || client.closed || mayBeHeld, `${api.name} v${version}: an answer or a close`);
      if (answer !== undefined) assert.equal(answer.readInt32BE(0), round, 'the answer is to this request');
      client.close();
      if (round % 25 === 0) {
        witness.request(16, 0, 10_000 + round, Buffer.alloc(0));
        const listed = await witness.next();
        assert.ok(listed, 'the broker still answers others');
      }
    }
  } finally {
    witness.close();
    await warren.close();
  }
});
