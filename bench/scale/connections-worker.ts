/**
 * A child process that holds idle AMQP connections for bench/scale.ts (one process can hold only as many
 * sockets as its file limit allows). Reads "open N" lines on stdin, opens N more connections to the URL
 * given as its argument (up to 50 handshakes at a time, each tried up to 3 times: a broker's accept
 * backlog may drop a SYN under a burst) and answers "opened TOTAL" (or "error MESSAGE").
 * It exits, dropping every connection, when stdin closes.
 */
import { createInterface } from 'node:readline';
import { PerfConnection } from '../../src/perf/client.js';
import { parseAmqpUrl } from '../../src/perf/url.js';

const HANDSHAKES_AT_ONCE = 50;
const TRIES = 3;
const endpoint = parseAmqpUrl(process.argv[2] ?? 'amqp://guest:guest@127.0.0.1:5672');
const held: PerfConnection[] = [];

async function connectWithRetries(): Promise<PerfConnection> {
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await PerfConnection.connect(endpoint, { connectionName: 'scale idle', timeoutMs: 20_000 });
      connection.onClosed = () => undefined;
      return connection;
    } catch (error) {
      if (attempt >= TRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function open(count: number): Promise<void> {
  let remaining = count;
  const lane = async (): Promise<void> => {
    while (remaining > 0) {
      remaining--;
      held.push(await connectWithRetries());
    }
  };
  await Promise.all(Array.from({ length: Math.min(HANDSHAKES_AT_ONCE, count) }, lane));
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const match = /^open (\d+)$/.exec(line.trim());
  if (match === null) return;
  open(Number(match[1])).then(
    () => process.stdout.write(`opened ${held.length}\n`),
    (error: Error) => process.stdout.write(`error ${error.message.replace(/\n/g, ' ')}\n`),
  );
});
lines.on('close', () => process.exit(0));
