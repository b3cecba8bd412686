import test from 'node:test';
import assert from 'node:assert/strict';
import { expectChannelError, session } from '../amqp/amqp-helpers.js';

const bad: readonly [args: Record<string, unknown>, text: string][] = [
  [{ 'x-message-ttl': -1 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_negative,-1}"],
  [{ 'x-message-ttl': 'soon' }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {unacceptable_type,longstr}"],
  [{ 'x-message-ttl': 4294967296 }, "invalid arg 'x-message-ttl' for queue 'q' in vhost '/': {value_too_large,4294967296}"],
  [{ 'x-expires': 0 }, "invalid arg 'x-expires' for queue 'q' in vhost '/': {value_zero,0}"],
  [{ 'x-max-length': -5 }, "invalid arg 'x-max-length' for queue 'q' in vhost '/': {value_negative,-5}"],
  [{ 'x-max-length-bytes': 1.5 }, "invalid arg 'x-max-length-bytes' for queue 'q' in vhost '/': {unacceptable_type,double}"],
  [{ 'x-max-priority': 256 }, "invalid arg 'x-max-priority' for queue 'q' in vhost '/': {max_value_exceeded,256}"],
  [{ 'x-overflow': 'foo' }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': invalid_overflow"],
  [{ 'x-overflow': true }, "invalid arg 'x-overflow' for queue 'q' in vhost '/': {unacceptable_type,bool}"],
  [{ 'x-single-active-consumer': 'yes' }, "invalid arg 'x-single-active-consumer' for queue 'q' in vhost '/': {unacceptable_type,longstr}"],
  [{ 'x-dead-letter-routing-key': 'rk' }, "invalid arg 'x-dead-letter-routing-key' for queue 'q' in vhost '/': routing_key_but_no_dlx_defined"],
  [{ 'x-dead-letter-exchange': 70000 }, "invalid type 'signedint' for arg 'x-dead-letter-exchange' in queue 'q' in vhost '/'"],
  [{ 'x-delivery-limit': -1 }, "invalid arg 'x-delivery-limit' for queue 'q' in vhost '/': {value_negative,-1}"],
  [{ 'x-message-deduplication': 'on' }, "invalid arg 'x-message-deduplication' for queue 'q' in vhost '/': {unacceptable_type,longstr}"],
  [{ 'x-message-group-header': '' }, "invalid arg 'x-message-group-header' for queue 'q' in vhost '/': {value_empty,<<>>}"],
  [{ 'x-message-group-max-in-flight': 0 }, "invalid arg 'x-message-group-max-in-flight' for queue 'q' in vhost '/': {value_zero,0}"],
  [{ 'x-message-group-max-in-flight': 'ten' }, "invalid arg 'x-message-group-max-in-flight' for queue 'q' in vhost '/': {unacceptable_type,longstr}"],
];

test('queue.declare refuses bad x-arguments with 406 and RabbitMQ reply texts', async (t) => {
  const s = await session(t);
  for (const [args, text] of bad) {
    const ch = await s.channel();
    await expectChannelError(ch, () => ch.assertQueue('q', { arguments: args }), 406, `PRECONDITION_FAILED - ${text}`);
  }
  // None of the refused declares left a queue behind.
  const ch = await s.channel();
  await expectChannelError(ch, () => ch.checkQueue('q'), 404, "NOT_FOUND - no queue 'q' in vhost '/'");
});

test('valid feature arguments are accepted and are part of the queue identity', async (t) => {
  const s = await session(t);
  const ch = await s.channel();
  const args = {
    'x-message-ttl': 1000,
    'x-expires': 60000,
    'x-dead-letter-exchange': 'dlx',
    'x-dead-letter-routing-key': 'dead',
    'x-max-length': 10,
    'x-max-length-bytes': 1000,
    'x-overflow': 'reject-publish-dlx',
    'x-max-priority': 255,
    'x-single-active-consumer': true,
    'x-delivery-limit': 3,
    'x-consumer-timeout': 5000,
    'x-message-deduplication': true,
    'x-cache-size': 100,
    'x-cache-ttl': 1000,
  };
  const ok = await ch.assertQueue('q', { arguments: args });
  assert.equal(ok.queue, 'q');
  await ch.assertQueue('q', { arguments: args });
  await expectChannelError(
    ch,
    () => ch.assertQueue('q', { arguments: { ...args, 'x-max-length': 11 } }),
    406,
    "PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue 'q' in vhost '/': received '11' but current is '10'",
  );
});
