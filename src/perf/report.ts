import type { DeclareStormResult } from './declare-storm.js';
import type { PerfResult } from './runner.js';

/** The human-readable summary `warren perf` prints at the end of a run. */
export function formatPerfResult(r: PerfResult): string {
  const o = r.options;
  const lines = [
    `duration ${r.elapsedS.toFixed(1)} s, ${o.publishers} publisher(s), ${o.consumers} consumer(s), ${o.queues} queue(s)` +
      `${o.fanout ? ' behind a fanout exchange' : ''}, ${o.size}-byte ${o.persistent ? 'persistent' : 'transient'} messages`,
    `published ${r.totals.published} (${Math.round(r.publishRate)} msg/s)` +
      (o.confirm > 0 ? `, confirmed ${r.totals.confirmed} (${Math.round(r.confirmRate)} msg/s), nacked ${r.totals.nacked}` : ''),
  ];
  if (o.consumers > 0) {
    const l = r.latency;
    lines.push(`consumed ${r.totals.consumed} (${Math.round(r.consumeRate)} msg/s)`);
    lines.push(
      `latency ms: p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, max ${ms(l.max)}, mean ${ms(l.mean)} (${l.count} samples)`,
    );
  }
  lines.push(`client CPU ${r.clientCpuS.toFixed(2)} s (${Math.round((100 * r.clientCpuS) / r.elapsedS)} % of one core)`);
  for (const e of r.errors) lines.push(`error: ${e}`);
  return lines.join('\n');
}

export function formatDeclareStorm(r: DeclareStormResult): string {
  return (
    `declared ${r.count} queues in ${(r.declareS * 1000).toFixed(0)} ms (${Math.round(r.declaresPerS)}/s); ` +
    `deleted them in ${(r.deleteS * 1000).toFixed(0)} ms`
  );
}

function ms(micros: number): string {
  return (micros / 1000).toFixed(2);
}
