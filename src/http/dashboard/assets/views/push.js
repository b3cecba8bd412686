// Push queues (src/push): each queue Warren delivers to an HTTP endpoint, with its delivery state
// from /api/push: in flight against the concurrency limit, delivered, failed attempts, dead-lettered,
// the last status and error, and request latencies.

import { h, panel } from '../lib/dom.js';
import { count, dateTime } from '../lib/format.js';
import { createTable } from '../lib/table.js';

const ms = (value) => (typeof value === 'number' ? `${value.toFixed(0)} ms` : '');

export function createPushView(ctx) {
  const table = createTable(
    [
      { id: 'name', label: 'Queue', value: (p) => p.queue },
      { id: 'vhost', label: 'Virtual host', value: (p) => p.vhost },
      { id: 'endpoint', label: 'Endpoint', value: (p) => p.endpoint ?? '' },
      { id: 'in_flight', label: 'In flight', value: (p) => p.in_flight ?? 0, cell: (p) => (p.concurrency === undefined ? '' : `${p.in_flight} / ${p.concurrency}`), numeric: true },
      { id: 'delivered', label: 'Delivered', value: (p) => p.delivered ?? 0, cell: (p) => count(p.delivered), numeric: true },
      { id: 'failed', label: 'Failed attempts', value: (p) => p.failed_attempts ?? 0, cell: (p) => count(p.failed_attempts), numeric: true },
      { id: 'dead', label: 'Dead-lettered', value: (p) => p.dead_lettered ?? 0, cell: (p) => count(p.dead_lettered), numeric: true },
      { id: 'status', label: 'Last status', value: (p) => p.last_status ?? '' },
      { id: 'latency', label: 'Last latency', value: (p) => p.last_latency_ms ?? 0, cell: (p) => ms(p.last_latency_ms), numeric: true },
      { id: 'mean', label: 'Mean latency', value: (p) => p.mean_latency_ms ?? 0, cell: (p) => ms(p.mean_latency_ms), numeric: true },
      { id: 'paused', label: 'Held until', value: (p) => p.paused_until ?? 0, cell: (p) => dateTime(p.paused_until ?? undefined) },
      { id: 'error', label: 'Last error', value: (p) => p.last_error ?? p.error ?? '' },
    ],
    { caption: 'Push queues', filterLabel: 'Filter push queues by name', filterValue: (p) => p.queue, empty: 'No push queues.' },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Push queues'), panel('Push queues', table.element));
  return {
    title: 'Push queues',
    element,
    refresh: async () => table.update(await ctx.api.get('/api/push')),
  };
}
