// One exchange: details, bindings from and to it (bind / unbind), publish a message, delete it.

import { ApiError, seg } from '../lib/api.js';
import { facts, field, h, onSubmit, panel, replaceChildren, select } from '../lib/dom.js';
import { exchangeLabel, exchangeUrlName, rate, statRate, table as tableText, yesNo } from '../lib/format.js';
import { createTable } from '../lib/table.js';
import { act, exchangeLink, objectPath, publishForm, queueLink } from './common.js';

export function createExchangeView(ctx, vhost, urlName) {
  const name = urlName === 'amq.default' ? '' : urlName;
  const path = objectPath('exchanges', vhost, name);
  const summary = h('div');
  const unbind = (b) =>
    h('button', { type: 'button', class: 'small secondary', onclick: () => act(ctx, () => ctx.api.delete(bindingPath(b)), 'Binding removed.') }, 'Unbind');
  const outgoing = createTable(
    [
      { id: 'to', label: 'To', value: (b) => b.destination, cell: (b) => (b.destination_type === 'queue' ? queueLink(b.vhost, b.destination) : exchangeLink(b.vhost, b.destination)) },
      { id: 'kind', label: 'Kind', value: (b) => b.destination_type },
      { id: 'key', label: 'Routing key', value: (b) => b.routing_key },
      { id: 'args', label: 'Arguments', value: (b) => tableText(b.arguments) },
      { id: 'action', label: 'Action', value: () => '', cell: (b) => (name === '' ? '' : unbind(b)), sortable: false },
    ],
    { caption: 'Bindings from this exchange', empty: name === '' ? 'The default exchange routes to every queue by its name.' : 'No bindings.' },
  );
  const incoming = createTable(
    [
      { id: 'from', label: 'From', value: (b) => b.source, cell: (b) => exchangeLink(b.vhost, b.source) },
      { id: 'key', label: 'Routing key', value: (b) => b.routing_key },
      { id: 'args', label: 'Arguments', value: (b) => tableText(b.arguments) },
      { id: 'action', label: 'Action', value: () => '', cell: unbind, sortable: false },
    ],
    { caption: 'Bindings to this exchange', empty: 'No exchange-to-exchange bindings.' },
  );
  const bindForm = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Add binding' },
      field('Destination kind', select('kind', [['q', 'queue'], ['e', 'exchange']], 'q')),
      field('Destination name', h('input', { name: 'destination', required: true })),
      field('Routing key', h('input', { name: 'routing_key' })),
      h('button', { type: 'submit' }, 'Bind'),
    ),
    async (data) => {
      const destination = String(data.get('destination'));
      const url = `/api/bindings/${seg(vhost)}/e/${seg(exchangeUrlName(name))}/${data.get('kind')}/${seg(destination)}`;
      if (await act(ctx, () => ctx.api.post(url, { routing_key: String(data.get('routing_key')), arguments: {} }), `Bound to ${destination}.`)) bindForm.reset();
    },
  );
  const remove = h('button', { type: 'button', class: 'danger', onclick: () => deleteExchange() }, 'Delete exchange');
  const heading = h('h1', {}, 'Exchange ', h('span', { class: 'object-name' }, exchangeLabel(name)));
  const element = h(
    'section',
    { class: 'view' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/exchanges' }, 'Exchanges'), ` › virtual host ${vhost}`),
    heading,
    panel('Details', summary),
    panel('Bindings from this exchange', outgoing.element, name === '' ? null : [h('h3', {}, 'Add binding'), bindForm]),
    panel('Bindings to this exchange', incoming.element),
    panel('Publish message', publishForm(ctx, vhost, name, '')),
    name === '' || name.startsWith('amq.') ? null : panel('Delete', h('div', { class: 'actions' }, remove)),
  );

  function bindingPath(b) {
    const letter = b.destination_type === 'queue' ? 'q' : 'e';
    const destination = b.destination_type === 'exchange' ? exchangeUrlName(b.destination) : b.destination;
    return `/api/bindings/${seg(vhost)}/e/${seg(exchangeUrlName(b.source))}/${letter}/${seg(destination)}/${b.properties_key}`;
  }

  async function deleteExchange() {
    if (!window.confirm(`Delete exchange "${name}" and its bindings?`)) return;
    try {
      await ctx.api.delete(path);
    } catch (error) {
      return ctx.fail(error);
    }
    ctx.notify(`Exchange ${name} deleted.`, 'success');
    location.hash = '#/exchanges';
  }

  async function refresh() {
    let exchange;
    let from;
    let to;
    try {
      [exchange, from, to] = await Promise.all([ctx.api.get(path), ctx.api.get(`${path}/bindings/source`), ctx.api.get(`${path}/bindings/destination`)]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        replaceChildren(element, heading, h('p', { role: 'alert' }, `Exchange "${exchangeLabel(name)}" does not exist in virtual host ${vhost}.`));
        return;
      }
      throw error;
    }
    const stats = exchange.message_stats;
    replaceChildren(
      summary,
      facts([
        ['Type', exchange.type],
        ['Durable', yesNo(exchange.durable)],
        ['Auto delete', yesNo(exchange.auto_delete)],
        ['Internal', yesNo(exchange.internal)],
        ['Arguments', tableText(exchange.arguments) || 'none'],
        ['Rate in', rate(statRate(stats, 'publish_in'))],
        ['Rate out', rate(statRate(stats, 'publish_out'))],
      ]),
    );
    outgoing.update(from);
    incoming.update(to);
  }

  return { title: `Exchange ${exchangeLabel(name)}`, element, refresh };
}
