// Connections: who is connected, from where, with how many channels; close one.

import { seg } from '../lib/api.js';
import { h, panel } from '../lib/dom.js';
import { bytes, dateTime, yesNo } from '../lib/format.js';
import { createTable } from '../lib/table.js';
import { act } from './common.js';

export function createConnectionsView(ctx) {
  const close = (c) =>
    h(
      'button',
      {
        type: 'button',
        class: 'small danger',
        'aria-label': `Close connection ${c.name}`,
        onclick: () => {
          if (window.confirm(`Close connection ${c.name}? The client gets connection.close 320 CONNECTION_FORCED.`)) {
            void act(ctx, () => ctx.api.delete(`/api/connections/${seg(c.name)}`), `Connection ${c.name} closed.`);
          }
        },
      },
      'Close',
    );
  const table = createTable(
    [
      { id: 'name', label: 'Name', value: (c) => c.name, cell: (c) => [c.name, c.user_provided_name ? h('small', { class: 'sub' }, c.user_provided_name) : null] },
      { id: 'user', label: 'User', value: (c) => c.user ?? '' },
      { id: 'vhost', label: 'Virtual host', value: (c) => c.vhost ?? '' },
      { id: 'client', label: 'Client', value: (c) => clientName(c) },
      { id: 'state', label: 'State', value: (c) => c.state },
      { id: 'tls', label: 'TLS', value: (c) => yesNo(c.ssl) },
      { id: 'channels', label: 'Channels', value: (c) => c.channels, numeric: true },
      { id: 'recv', label: 'Received', value: (c) => c.recv_oct, cell: (c) => bytes(c.recv_oct), numeric: true },
      { id: 'send', label: 'Sent', value: (c) => c.send_oct, cell: (c) => bytes(c.send_oct), numeric: true },
      { id: 'since', label: 'Connected at', value: (c) => c.connected_at, cell: (c) => dateTime(c.connected_at) },
      { id: 'close', label: 'Action', value: () => '', cell: (c) => (ctx.isAdmin || c.user === ctx.user?.name ? close(c) : ''), sortable: false },
    ],
    { caption: 'Connections', filterLabel: 'Filter by name', filterValue: (c) => `${c.name} ${c.user_provided_name ?? ''}`, empty: 'No clients are connected.' },
  );
  const element = h('section', { class: 'view' }, h('h1', {}, 'Connections'), panel('All connections', table.element));
  return {
    title: 'Connections',
    element,
    refresh: async () => table.update(await ctx.api.get('/api/connections')),
  };
}

function clientName(connection) {
  const props = connection.client_properties ?? {};
  const product = [props.product, props.version].filter((v) => typeof v === 'string' && v !== '').join(' ');
  const peer = `${connection.peer_host}:${connection.peer_port}`;
  return product === '' ? peer : `${product} (${peer})`;
}
