// Channels: per channel its mode, prefetch, unacked messages and consumers.

import { h, panel } from '../lib/dom.js';
import { count } from '../lib/format.js';
import { createTable } from '../lib/table.js';

function mode(channel) {
  if (channel.confirm) return 'confirm';
  if (channel.transactional) return 'transactional';
  return '';
}

export function createChannelsView(ctx) {
  const table = createTable(
    [
      { id: 'name', label: 'Channel', value: (c) => c.name },
      { id: 'user', label: 'User', value: (c) => c.user ?? '' },
      { id: 'vhost', label: 'Virtual host', value: (c) => c.vhost ?? '' },
      { id: 'mode', label: 'Mode', value: mode },
      { id: 'state', label: 'State', value: (c) => c.state },
      { id: 'consumers', label: 'Consumers', value: (c) => c.consumer_count, numeric: true },
      { id: 'prefetch', label: 'Prefetch', value: (c) => c.prefetch_count, cell: (c) => (c.global_prefetch_count ? `${count(c.prefetch_count)} (channel ${count(c.global_prefetch_count)})` : count(c.prefetch_count)), numeric: true },
      { id: 'unacked', label: 'Unacked', value: (c) => c.messages_unacknowledged, cell: (c) => count(c.messages_unacknowledged), numeric: true },
    ],
    { caption: 'Channels', filterLabel: 'Filter by name', empty: 'No channels are open.' },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Channels'), panel('All channels', table.element));
  return {
    title: 'Channels',
    element,
    refresh: async () => table.update(await ctx.api.get('/api/channels')),
  };
}
