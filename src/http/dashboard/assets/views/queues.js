// Queues: every queue with its depth, consumers and rates; sortable, filterable; add a queue.

import { seg } from '../lib/api.js';
import { checkbox, field, h, onSubmit, panel, parseKeyValues } from '../lib/dom.js';
import { count, rate, statRate } from '../lib/format.js';
import { createTable } from '../lib/table.js';
import { act, features, queueLink, vhostSelect } from './common.js';

const COLUMNS = [
  { id: 'name', label: 'Name', value: (q) => q.name, cell: (q) => queueLink(q.vhost, q.name) },
  { id: 'vhost', label: 'Virtual host', value: (q) => q.vhost },
  { id: 'type', label: 'Type', value: (q) => q.type ?? 'classic' },
  // The owner: in a cluster, the node whose dispatch serves the queue (replicated queues move on failover).
  { id: 'node', label: 'Node', value: (q) => q.node ?? '' },
  { id: 'features', label: 'Features', value: (q) => (q.durable ? 'D' : ''), cell: features, sortable: false },
  { id: 'state', label: 'State', value: (q) => q.state },
  { id: 'ready', label: 'Ready', value: (q) => q.messages_ready, cell: (q) => count(q.messages_ready), numeric: true },
  { id: 'unacked', label: 'Unacked', value: (q) => q.messages_unacknowledged, cell: (q) => count(q.messages_unacknowledged), numeric: true },
  { id: 'total', label: 'Total', value: (q) => q.messages, cell: (q) => count(q.messages), numeric: true },
  { id: 'consumers', label: 'Consumers', value: (q) => q.consumers, cell: (q) => count(q.consumers), numeric: true },
  { id: 'incoming', label: 'Incoming', value: (q) => statRate(q.message_stats, 'publish'), cell: (q) => rate(statRate(q.message_stats, 'publish')), numeric: true },
  { id: 'deliver', label: 'Deliver / get', value: (q) => statRate(q.message_stats, 'deliver_get'), cell: (q) => rate(statRate(q.message_stats, 'deliver_get')), numeric: true },
  { id: 'ack', label: 'Ack', value: (q) => statRate(q.message_stats, 'ack'), cell: (q) => rate(statRate(q.message_stats, 'ack')), numeric: true },
];

export function createQueuesView(ctx) {
  const table = createTable(COLUMNS, { caption: 'Queues', filterLabel: 'Filter by name', empty: 'No queues yet.' });
  const vhosts = vhostSelect();
  const form = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Add a queue' },
      field('Virtual host', vhosts.element),
      field('Name', h('input', { name: 'name', required: true })),
      checkbox('Durable', 'durable', true),
      checkbox('Auto delete', 'auto_delete', false),
      field('Arguments', h('textarea', { name: 'arguments', rows: 2, placeholder: 'x-message-ttl = 60000' }), 'One "name = value" per line.'),
      h('button', { type: 'submit' }, 'Add queue'),
    ),
    async (data) => {
      let args;
      try {
        args = parseKeyValues(String(data.get('arguments')));
      } catch (error) {
        return ctx.notify(error.message, 'error');
      }
      const name = String(data.get('name'));
      const body = { durable: data.get('durable') === 'on', auto_delete: data.get('auto_delete') === 'on', arguments: args };
      const ok = await act(ctx, () => ctx.api.put(`/api/queues/${seg(String(data.get('vhost')))}/${seg(name)}`, body), `Queue ${name} declared.`);
      if (ok) form.reset();
    },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Queues'), panel('All queues', table.element), panel('Add a queue', form));

  async function refresh() {
    const [queues] = await Promise.all([ctx.api.get('/api/queues'), vhosts.refresh(ctx.api)]);
    table.update(queues);
  }

  return { title: 'Queues', element, refresh };
}
