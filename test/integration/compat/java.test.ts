/**
 * RabbitMQ's official Java client (Debian's librabbitmq-client-java): connect with a heartbeat, declare,
 * every Java header type, 1000 persistent messages under publisher confirms, consume them in order with
 * prefetch, a 3 MiB body, basic.cancel when a consumed queue is deleted, a 404 channel error with the connection surviving, close. Compiled with javac per run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLIENTS_DIR, assertAllConnectionsClosed, assertSteps, brokerFor, missingFiles, runClient } from './compat-helpers.js';

const JARS = ['/usr/share/java/amqp-client.jar', '/usr/share/java/slf4j-api.jar', '/usr/share/java/slf4j-nop.jar'];
const skip = missingFiles(['/usr/bin/javac', '/usr/bin/java', ...JARS], 'librabbitmq-client-java libslf4j-java default-jdk-headless');

test('the RabbitMQ Java client works unmodified against Warren', { skip, timeout: 60_000 }, async (t) => {
  const classes = await mkdtemp(join(tmpdir(), 'warren-compat-java-'));
  t.after(() => rm(classes, { recursive: true, force: true }));
  const compiled = await runClient(t, '/usr/bin/javac', ['-cp', JARS.join(':'), '-d', classes, join(CLIENTS_DIR, 'JavaCompatClient.java')], {
    timeoutMs: 45_000,
  });
  assertSteps(compiled, []);

  const broker = await brokerFor(t);
  const result = await runClient(t, '/usr/bin/java', ['-cp', [classes, ...JARS].join(':'), 'JavaCompatClient', broker.url]);
  const details = assertSteps(result, ['connect', 'declare', 'headers', 'confirm-publish', 'consume', 'large-message', 'cancel-notify', 'channel-error', 'close']);
  t.diagnostic(`negotiated ${details.get('connect')}`);
  await assertAllConnectionsClosed(broker);
});
