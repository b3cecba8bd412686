// Shovels and federation links: their state (with the reason when they are down) and what they moved.

import { h, panel } from '../lib/dom.js';
import { count } from '../lib/format.js';
import { createTable } from '../lib/table.js';

const endpoint = (row, side) => row[`${side}_queue`] ?? (row[`${side}_exchange`] === undefined ? '' : `${row[`${side}_exchange`]} (${row[`${side}_exchange_key`] ?? ''})`);

export function createLinksView(ctx) {
  const shovels = createTable(
    [
      { id: 'name', label: 'Shovel', value: (s) => s.name },
      { id: 'vhost', label: 'Virtual host', value: (s) => s.vhost },
      { id: 'type', label: 'Type', value: (s) => s.type },
      { id: 'state', label: 'State', value: (s) => s.state },
      { id: 'source', label: 'Source', value: (s) => `${s.src_uri ?? ''} ${endpoint(s, 'src')}`.trim() },
      { id: 'destination', label: 'Destination', value: (s) => `${s.dest_uri ?? ''} ${endpoint(s, 'dest')}`.trim() },
      { id: 'moved', label: 'Moved', value: (s) => s.message_stats?.transferred ?? 0, cell: (s) => count(s.message_stats?.transferred ?? 0), numeric: true },
      { id: 'rate', label: 'Rate /s', value: (s) => s.message_stats?.transferred_details?.rate ?? 0, numeric: true },
      { id: 'reason', label: 'Reason', value: (s) => s.reason ?? '' },
    ],
    { caption: 'Shovels', filterLabel: 'Filter shovels by name', empty: 'No shovels.' },
  );
  const links = createTable(
    [
      { id: 'target', label: 'Exchange or queue', value: (l) => l.exchange ?? l.queue },
      { id: 'vhost', label: 'Virtual host', value: (l) => l.vhost },
      { id: 'type', label: 'Type', value: (l) => l.type },
      { id: 'upstream', label: 'Upstream', value: (l) => l.upstream },
      { id: 'uri', label: 'URI', value: (l) => l.uri },
      { id: 'status', label: 'Status', value: (l) => l.status },
      { id: 'received', label: 'Received', value: (l) => l.messages_received ?? 0, cell: (l) => count(l.messages_received ?? 0), numeric: true },
      { id: 'error', label: 'Error', value: (l) => l.error ?? '' },
    ],
    { caption: 'Federation links', filterLabel: 'Filter links by name', empty: 'No federation links.' },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Shovels and federation'), panel('Shovels', shovels.element), panel('Federation links', links.element));
  return {
    title: 'Shovels and federation',
    element,
    refresh: async () => {
      const [s, l] = await Promise.all([ctx.api.get('/api/shovels'), ctx.api.get('/api/federation-links')]);
      shovels.update(s);
      links.update(l);
    },
  };
}
