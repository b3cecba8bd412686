/** Everything one `warren perf` run needs; the CLI and bench/run.ts both build this. */
export interface PerfOptions {
  url: string;
  publishers: number;
  consumers: number;
  /** Queues to spread publishers and consumers over (publisher i -> queue i mod n, consumer j -> queue j mod n). */
  queues: number;
  /** Queue names are `<prefix>-<i>`; the default prefix carries the PID so parallel runs never share queues. */
  queuePrefix: string;
  /** Publish through one fanout exchange bound to every queue instead of straight to a queue. */
  fanout: boolean;
  /** Body bytes; 8 or more carry the send timestamp used for latency. */
  size: number;
  /** delivery-mode 2 and durable queues. */
  persistent: boolean;
  /**
   * x-queue-type of the run's queues. quorum and stream queues are durable; stream consumers read from
   * `streamOffset` (x-stream-offset), and streams require them to ack within a prefetch.
   */
  queueType: 'classic' | 'quorum' | 'stream';
  /** Where stream consumers start (x-stream-offset: first, last, next, an offset, ...). */
  streamOffset: string;
  /** Publisher confirms with at most this many unconfirmed messages per publisher; 0 = no confirms. */
  confirm: number;
  autoAck: boolean;
  /** basic.qos prefetch-count per consumer; 0 = unlimited. */
  prefetch: number;
  /** Messages per second per publisher; 0 = as fast as the broker takes them. */
  rate: number;
  /** Seconds; 0 = until every publisher has sent `messagesPerPublisher`. */
  durationS: number;
  /** Stop each publisher after this many messages (and their confirms); 0 = no limit. */
  messagesPerPublisher: number;
  /** Worker processes (fork) or worker_threads for the clients. */
  workers: 'process' | 'thread';
  /** Leave queues (and the fanout exchange) in place afterwards. */
  keepQueues: boolean;
  /** Seconds between progress lines; 0 = none. */
  reportIntervalS: number;
}

export const defaultPerfOptions: PerfOptions = {
  url: 'amqp://guest:guest@127.0.0.1:5672',
  publishers: 1,
  consumers: 1,
  queues: 1,
  queuePrefix: `warren-perf-${process.pid}`,
  fanout: false,
  size: 100,
  persistent: false,
  queueType: 'classic',
  streamOffset: 'first',
  confirm: 0,
  autoAck: false,
  prefetch: 1000,
  rate: 0,
  durationS: 10,
  messagesPerPublisher: 0,
  workers: 'process',
  keepQueues: false,
  reportIntervalS: 1,
};

export function withDefaults(partial: Partial<PerfOptions>): PerfOptions {
  const options = { ...defaultPerfOptions, ...partial };
  validate(options);
  return options;
}

function validate(o: PerfOptions): void {
  const nonNegative: (keyof PerfOptions)[] = [
    'publishers', 'consumers', 'size', 'confirm', 'prefetch', 'rate', 'durationS', 'messagesPerPublisher',
  ];
  for (const key of nonNegative) {
    const value = o[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new RangeError(`${key} must be a non-negative number, got ${String(value)}`);
    }
  }
  if (!Number.isInteger(o.queues) || o.queues < 1) throw new RangeError('queues must be at least 1');
  if (o.publishers === 0 && o.consumers === 0) throw new RangeError('nothing to run: no publishers and no consumers');
  if (o.durationS === 0 && (o.messagesPerPublisher === 0 || o.publishers === 0)) {
    throw new RangeError('an unlimited duration needs publishers with a message limit');
  }
  if (o.prefetch > 65535) throw new RangeError('prefetch is a 16-bit field (max 65535)');
  if (o.queueType === 'stream' && (o.autoAck || o.prefetch === 0)) throw new RangeError('stream consumers need manual acks and a prefetch');
}

/** The run's queue.declare: durable when persistent or not classic, with x-queue-type unless classic. */
export function queueDeclareOptions(o: PerfOptions): { durable: boolean; arguments: Record<string, string> } {
  if (o.queueType === 'classic') return { durable: o.persistent, arguments: {} };
  return { durable: true, arguments: { 'x-queue-type': o.queueType } };
}

/** basic.consume arguments: a stream is read from streamOffset (a number is sent as a number). */
export function consumeArguments(o: PerfOptions): Record<string, string | number> {
  if (o.queueType !== 'stream') return {};
  const numeric = /^\d+$/.test(o.streamOffset);
  return { 'x-stream-offset': numeric ? Number(o.streamOffset) : o.streamOffset };
}

/** Names of the run's queues. */
export function queueNames(o: PerfOptions): string[] {
  return Array.from({ length: o.queues }, (_, i) => `${o.queuePrefix}-${i}`);
}

export function fanoutExchangeName(o: PerfOptions): string {
  return `${o.queuePrefix}-fanout`;
}
