/**
 * Debian's kcat (librdkafka 2.0) against the Kafka door: version negotiation (ApiVersions v3 first,
 * record batches, zstd and idempotence features turned on), produce with keys, headers and
 * timestamps, consume from the beginning, an offset, a timestamp and the end (a long poll that
 * returns when data arrives).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hasProgram, run, startKafkaWarren, type KafkaWarren } from './harness.js';

const KCAT = '/usr/bin/kcat';
const skip = hasProgram(KCAT) ? false : 'kcat is not installed (Debian package kcat)';

let warren: KafkaWarren;
before(async () => {
  if (skip === false) warren = await startKafkaWarren({ kafka: { autoCreateTopics: true } });
});
after(async () => {
  await warren?.close();
});

function kcat(args: string[], input?: string, timeoutMs?: number): ReturnType<typeof run> {
  return run(KCAT, ['-b', warren.bootstrap, '-X', 'topic.metadata.refresh.interval.ms=1000', ...args], { ...(input === undefined ? {} : { input }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
}

test('librdkafka negotiates record batches v2, idempotence and zstd from the advertised ranges', { skip }, async () => {
  const out = await kcat(['-L', '-X', 'debug=feature']);
  assert.equal(out.code, 0, out.stderr);
  for (const feature of ['MsgVer2', 'ApiVersion', 'IdempotentProducer', 'ZSTD', 'OffsetTime']) {
    assert.match(out.stderr, new RegExp(`Enabling feature ${feature}\\b`), feature);
  }
  assert.match(out.stdout, /broker 0 at 127\.0\.0\.1:\d+/);
});

test('kcat produces with keys, headers and timestamps and consumes from the beginning, an offset and a time', { skip }, async () => {
  const input = 'k1:one\nk2:two\nk3:three\n';
  const produced = await kcat(['-P', '-t', 'kcat-t', '-K', ':', '-H', 'source=kcat', '-H', 'n=1', '-X', 'acks=all'], input);
  assert.equal(produced.code, 0, produced.stderr);
  const format = '%o|%k|%s|%h|%T\\n';
  const all = await kcat(['-C', '-t', 'kcat-t', '-o', 'beginning', '-e', '-f', format]);
  assert.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  const [first] = lines.map((line) => line.split('|'));
  assert.deepEqual(first!.slice(0, 4), ['0', 'k1', 'one', 'source=kcat,n=1']);
  const timestamp = Number(first![4]);
  assert.ok(Math.abs(timestamp - Date.now()) < 60_000, `timestamp ${timestamp} is the producer's`);
  const fromOffset = await kcat(['-C', '-t', 'kcat-t', '-o', '2', '-e', '-f', '%o %s\\n']);
  assert.equal(fromOffset.stdout.trim(), '2 three');
  // A time after everything: nothing; the producer's timestamp: from the first record on.
  const byTime = await kcat(['-C', '-t', 'kcat-t', '-o', `s@${timestamp}`, '-e', '-f', '%o\\n']);
  assert.equal(byTime.stdout.trim().split('\n')[0], '0');
});

test('a kcat consumer at the end waits in a long poll and gets a record produced later', { skip }, async () => {
  await kcat(['-P', '-t', 'kcat-tail', '-K', ':'], 'a:old\n');
  const consumer = kcat(['-C', '-t', 'kcat-tail', '-o', 'end', '-c', '1', '-f', '%k=%s\\n', '-X', 'fetch.wait.max.ms=5000'], undefined, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await kcat(['-P', '-t', 'kcat-tail', '-K', ':'], 'b:new\n');
  const out = await consumer;
  assert.equal(out.stdout.trim(), 'b=new', out.stderr);
});

test('gzip-compressed batches from librdkafka are accepted', { skip }, async () => {
  const big = `${'x'.repeat(2000)}\n`.repeat(20);
  const produced = await kcat(['-P', '-t', 'kcat-gzip', '-z', 'gzip'], big);
  assert.equal(produced.code, 0, produced.stderr);
  const consumed = await kcat(['-C', '-t', 'kcat-gzip', '-o', 'beginning', '-e', '-f', '%S\\n']);
  assert.deepEqual(consumed.stdout.trim().split('\n'), new Array(20).fill('2000'));
});
