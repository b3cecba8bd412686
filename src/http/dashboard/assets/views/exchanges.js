// Exchanges: every exchange with its type and rates; add an exchange.

import { seg } from '../lib/api.js';
import { checkbox, field, h, onSubmit, panel, select, setOptions } from '../lib/dom.js';
import { exchangeLabel, rate, statRate } from '../lib/format.js';
import { createTable } from '../lib/table.js';
import { act, exchangeLink, features, vhostSelect } from './common.js';

const COLUMNS = [
  { id: 'name', label: 'Name', value: (x) => exchangeLabel(x.name), cell: (x) => exchangeLink(x.vhost, x.name) },
  { id: 'vhost', label: 'Virtual host', value: (x) => x.vhost },
  { id: 'type', label: 'Type', value: (x) => x.type },
  { id: 'features', label: 'Features', value: (x) => (x.durable ? 'D' : ''), cell: features, sortable: false },
  { id: 'in', label: 'Rate in', value: (x) => statRate(x.message_stats, 'publish_in'), cell: (x) => rate(statRate(x.message_stats, 'publish_in')), numeric: true },
  { id: 'out', label: 'Rate out', value: (x) => statRate(x.message_stats, 'publish_out'), cell: (x) => rate(statRate(x.message_stats, 'publish_out')), numeric: true },
];

export function createExchangesView(ctx) {
  const table = createTable(COLUMNS, { caption: 'Exchanges', filterLabel: 'Filter by name', filterValue: (x) => exchangeLabel(x.name), empty: 'No exchanges.' });
  const vhosts = vhostSelect();
  const types = select('type', ['direct', 'fanout', 'headers', 'topic'], 'direct');
  const form = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Add an exchange' },
      field('Virtual host', vhosts.element),
      field('Name', h('input', { name: 'name', required: true })),
      field('Type', types),
      checkbox('Durable', 'durable', true),
      checkbox('Auto delete', 'auto_delete', false),
      checkbox('Internal', 'internal', false),
      h('button', { type: 'submit' }, 'Add exchange'),
    ),
    async (data) => {
      const name = String(data.get('name'));
      const body = { type: String(data.get('type')), durable: data.get('durable') === 'on', auto_delete: data.get('auto_delete') === 'on', internal: data.get('internal') === 'on' };
      const ok = await act(ctx, () => ctx.api.put(`/api/exchanges/${seg(String(data.get('vhost')))}/${seg(name)}`, body), `Exchange ${name} declared.`);
      if (ok) form.reset();
    },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Exchanges'), panel('All exchanges', table.element), panel('Add an exchange', form));

  async function refresh() {
    const [exchanges] = await Promise.all([ctx.api.get('/api/exchanges'), vhosts.refresh(ctx.api)]);
    const available = (ctx.overview?.exchange_types ?? []).map((t) => t.name);
    if (available.length > 0) setOptions(types, available);
    table.update(exchanges);
  }

  return { title: 'Exchanges', element, refresh };
}
