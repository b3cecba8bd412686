import type { Metric, ScenarioOutcome } from './scenarios.js';

export interface ScenarioRow {
  title: string;
  /** Broker name -> outcome (or the error that stopped it). */
  outcomes: Map<string, ScenarioOutcome | Error>;
}

/** A ratio column: how many times better broker `of` is than broker `over` on each metric. */
export interface Ratio {
  header: string;
  of: string;
  over: string;
  /** Add the target for this metric next to the ratio (Warren vs RabbitMQ). */
  withTarget: boolean;
}

/**
 * The side-by-side markdown table. A ratio is how many times better one broker is than another on that
 * metric (higher throughput, or lower time/latency/memory), so > 1 always means `of` wins.
 */
export function markdownTable(rows: ScenarioRow[], brokers: string[], ratios: Ratio[]): string {
  const header = ['Scenario', 'Metric', ...brokers];
  for (const r of ratios) header.push(r.header, ...(r.withTarget ? ['Target'] : []));
  header.push(...brokers.map((b) => `client CPU s (${b})`), ...brokers.map((b) => `broker CPU s (${b})`));
  const lines = [row(header), row(header.map(() => '---'))];
  for (const r of rows) {
    const outcomes = brokers.map((b) => r.outcomes.get(b));
    const labels = metricLabels(outcomes);
    labels.forEach((label, i) => {
      const metrics = outcomes.map((o) => (o instanceof Error || o === undefined ? undefined : o.metrics.find((m) => m.label === label)));
      const cells = [i === 0 ? r.title : '', `${label} (${unitOf(metrics)})`, ...outcomes.map((o, j) => valueCell(o, metrics[j]))];
      for (const ratio of ratios) {
        const of = metrics[brokers.indexOf(ratio.of)];
        cells.push(advantage(of, metrics[brokers.indexOf(ratio.over)]), ...(ratio.withTarget ? [targetCell(of)] : []));
      }
      const cpu = (pick: (o: ScenarioOutcome) => number | undefined): string[] =>
        outcomes.map((o) => (i === 0 && o !== undefined && !(o instanceof Error) ? fmt(pick(o)) : ''));
      cells.push(...cpu((o) => o.clientCpuS), ...cpu((o) => o.brokerCpuS));
      lines.push(row(cells));
    });
  }
  return lines.join('\n');
}

function metricLabels(outcomes: (ScenarioOutcome | Error | undefined)[]): string[] {
  const labels: string[] = [];
  for (const o of outcomes) {
    if (o === undefined || o instanceof Error) continue;
    for (const m of o.metrics) if (!labels.includes(m.label)) labels.push(m.label);
  }
  return labels.length > 0 ? labels : ['(failed)'];
}

function unitOf(metrics: (Metric | undefined)[]): string {
  return metrics.find((m) => m !== undefined)?.unit ?? '';
}

function valueCell(outcome: ScenarioOutcome | Error | undefined, metric: Metric | undefined): string {
  if (outcome instanceof Error) return `failed: ${outcome.message.split('\n')[0]}`;
  if (metric === undefined) return '';
  // Numbers from a run where a client lost its connection are not comparable: say so in the cell.
  return outcome !== undefined && outcome.errors.length > 0 ? `${fmt(metric.value)} (run failed: ${outcome.errors[0]})` : fmt(metric.value);
}

function advantage(a: Metric | undefined, b: Metric | undefined): string {
  if (a === undefined || b === undefined || a.value <= 0 || b.value <= 0) return '';
  const ratio = a.higherIsBetter ? a.value / b.value : b.value / a.value;
  return `${ratio.toFixed(2)}x`;
}

function targetCell(m: Metric | undefined): string {
  return m?.target === undefined ? '' : `>= ${m.target}x`;
}

export function fmt(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}
