/**
 * The PerfTest-style scenarios every client benchmark runs (bench/java/JavaPerf.java keeps the same
 * table in Java, bench/clients/pika_perf.py in Python): one producer and one consumer connection, one
 * frame set per message as the client library writes it, manual acks unless no-ack.
 */
export interface ClientScenario {
  bodyBytes: number;
  persistent: boolean;
  /** Outstanding publisher confirms allowed; 0 = no confirms. */
  confirmWindow: number;
  /** Queues bound to one fanout exchange (1 = the default exchange, straight to the queue). */
  queues: number;
  autoAck: boolean;
  /** A fixed publish rate (the latency scenario); 0 = as fast as the client goes. */
  ratePerSecond: number;
}

export const CLIENT_SCENARIOS: Record<string, ClientScenario> = {
  transient: { bodyBytes: 100, persistent: false, confirmWindow: 0, queues: 1, autoAck: false, ratePerSecond: 0 },
  persistent: { bodyBytes: 100, persistent: true, confirmWindow: 1000, queues: 1, autoAck: false, ratePerSecond: 0 },
  fanout: { bodyBytes: 100, persistent: false, confirmWindow: 0, queues: 10, autoAck: false, ratePerSecond: 0 },
  noack: { bodyBytes: 16, persistent: false, confirmWindow: 0, queues: 1, autoAck: true, ratePerSecond: 0 },
  latency: { bodyBytes: 100, persistent: false, confirmWindow: 1000, queues: 1, autoAck: false, ratePerSecond: 5000 },
};

export const CONSUMER_PREFETCH = 1000;

/** The one JSON line a client prints: what it sent and received, and latency percentiles when timed. */
export interface ClientResult {
  scenario: string;
  seconds: number;
  sent: number;
  received: number;
  sentPerSecond: number;
  receivedPerSecond: number;
  latencyMs?: { p50: number; p99: number; max: number };
}

export function clientResult(scenario: string, seconds: number, sent: number, received: number, latenciesMs: number[]): ClientResult {
  const result: ClientResult = { scenario, seconds, sent, received, sentPerSecond: sent / seconds, receivedPerSecond: received / seconds };
  if (latenciesMs.length > 0) {
    const sorted = Float64Array.from(latenciesMs).sort();
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
    result.latencyMs = { p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! };
  }
  return result;
}
