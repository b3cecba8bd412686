// One queue: its numbers, a depth chart, consumers, bindings, the message browser and the actions
// (publish, move, purge, delete).

import { ApiError, seg } from '../lib/api.js';
import { createChart } from '../lib/chart.js';
import { facts, field, h, onSubmit, panel, replaceChildren, select, setOptions } from '../lib/dom.js';
import { bytes, count, rate, statRate, table as tableText, yesNo } from '../lib/format.js';
import { History } from '../lib/history.js';
import { createTable } from '../lib/table.js';
import { createMessageBrowser } from './messages.js';
import { act, exchangeLink, objectPath, publishForm } from './common.js';

export function createQueueView(ctx, vhost, name) {
  const path = objectPath('queues', vhost, name);
  const depth = new History();
  const chart = createChart('Queue depth', count);
  const summary = h('div');
  const consumers = createTable(
    [
      { id: 'tag', label: 'Consumer tag', value: (c) => c.consumer_tag },
      { id: 'channel', label: 'Channel', value: (c) => c.channel_details?.name ?? '' },
      { id: 'ack', label: 'Ack required', value: (c) => yesNo(c.ack_required) },
      { id: 'exclusive', label: 'Exclusive', value: (c) => yesNo(c.exclusive) },
      { id: 'prefetch', label: 'Prefetch', value: (c) => c.prefetch_count, numeric: true },
      { id: 'args', label: 'Arguments', value: (c) => tableText(c.arguments) },
    ],
    { caption: 'Consumers', empty: 'No consumers.' },
  );
  const bindings = createTable(
    [
      { id: 'source', label: 'From exchange', value: (b) => b.source, cell: (b) => exchangeLink(b.vhost, b.source) },
      { id: 'key', label: 'Routing key', value: (b) => b.routing_key },
      { id: 'args', label: 'Arguments', value: (b) => tableText(b.arguments) },
    ],
    { caption: 'Bindings', empty: 'No bindings.' },
  );
  const stream = createStreamPanel();
  const destination = select('destination', []);
  const moveForm = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Move messages' },
      field('Destination queue', destination),
      field('How many', h('input', { name: 'count', type: 'number', min: 1, placeholder: 'all' })),
      h('button', { type: 'submit' }, 'Move messages'),
    ),
    async (data) => {
      const body = { destination: String(data.get('destination')) };
      if (String(data.get('count')) !== '') body.count = Number(data.get('count'));
      if (body.destination === '') return ctx.notify('There is no other queue in this virtual host.', 'error');
      await act(ctx, () => ctx.api.post(`${path}/move`, body), (result) => `Moved ${count(result.moved)} message${result.moved === 1 ? '' : 's'} to ${body.destination}.`);
    },
  );
  const purge = h('button', { type: 'button', class: 'danger', onclick: () => purgeQueue() }, 'Purge messages');
  const remove = h('button', { type: 'button', class: 'danger', onclick: () => deleteQueue() }, 'Delete queue');
  const browser = createMessageBrowser(ctx, path);
  const heading = h('h1', {}, 'Queue ', h('span', { class: 'object-name' }, name));
  const element = h(
    'section',
    { class: 'view' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/queues' }, 'Queues'), ` › virtual host ${vhost}`),
    heading,
    h('div', { class: 'columns' }, panel('Details', summary), panel('Depth', chart.element)),
    panel('Consumers', consumers.element),
    stream.element,
    panel('Bindings', bindings.element),
    panel('Get messages', browser.element),
    h('div', { class: 'columns' }, panel('Publish message', publishForm(ctx, vhost, '', name)), panel('Move messages', moveForm)),
    panel('Purge or delete', h('p', {}, 'Purging removes every ready message; deleting removes the queue and its messages.'), h('div', { class: 'actions' }, purge, remove)),
  );

  async function purgeQueue() {
    if (!window.confirm(`Purge all ready messages of queue "${name}"?`)) return;
    await act(ctx, () => ctx.api.delete(`${path}/contents`), `Queue ${name} purged.`);
    await browser.reload();
  }

  async function deleteQueue() {
    if (!window.confirm(`Delete queue "${name}" and its messages?`)) return;
    try {
      await ctx.api.delete(path);
    } catch (error) {
      return ctx.fail(error);
    }
    ctx.notify(`Queue ${name} deleted.`, 'success');
    location.hash = '#/queues';
  }

  async function refresh() {
    let queue;
    try {
      [queue] = await Promise.all([ctx.api.get(path), refreshBindingsAndTargets()]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return showGone();
      throw error;
    }
    depth.add(Date.now(), { ready: queue.messages_ready, unacked: queue.messages_unacknowledged });
    chart.update([
      { label: 'Ready', points: depth.gauge('ready') },
      { label: 'Unacked', points: depth.gauge('unacked') },
    ]);
    replaceChildren(summary, queueFacts(queue));
    consumers.update(queue.consumer_details ?? []);
    stream.update(queue.stream);
  }

  async function refreshBindingsAndTargets() {
    const [rows, queues] = await Promise.all([ctx.api.get(`${path}/bindings`), ctx.api.get(`/api/queues/${seg(vhost)}?columns=name`)]);
    bindings.update(rows);
    setOptions(destination, queues.map((q) => q.name).filter((n) => n !== name).sort());
  }

  function showGone() {
    replaceChildren(element, heading, h('p', { role: 'alert' }, `Queue "${name}" does not exist (any more) in virtual host ${vhost}. `, h('a', { href: '#/queues' }, 'All queues')));
  }

  return { title: `Queue ${name}`, element, refresh };
}

/**
 * Stream queues only: the log's extent, where each reader is and, for stored offsets (named consumers,
 * Kafka consumer groups), how far behind the end they are.
 */
function createStreamPanel() {
  const summary = h('div');
  const readers = createTable(
    [
      { id: 'tag', label: 'Consumer tag', value: (c) => c.consumer_tag },
      { id: 'offset', label: 'Next offset', value: (c) => c.offset, numeric: true },
      { id: 'lag', label: 'Lag', value: (c) => c.lag, numeric: true },
      { id: 'active', label: 'Active', value: (c) => yesNo(c.active) },
    ],
    { caption: 'Stream readers', empty: 'No consumer reads this stream.' },
  );
  const stored = createTable(
    [
      { id: 'reference', label: 'Consumer name or group', value: (s) => s.reference },
      { id: 'offset', label: 'Stored offset', value: (s) => s.offset, numeric: true },
      { id: 'lag', label: 'Lag', value: (s) => s.lag, numeric: true },
    ],
    { caption: 'Stored offsets', empty: 'No stored offsets.' },
  );
  const element = panel('Stream', summary, readers.element, stored.element);
  element.hidden = true;
  function update(figures) {
    element.hidden = figures === undefined;
    if (figures === undefined) return;
    replaceChildren(
      summary,
      facts([
        ['Segments', count(figures.segments)],
        ['Size', bytes(figures.bytes)],
        ['First offset', count(figures.first_offset)],
        ['Last offset', h('span', { 'data-field': 'last-offset' }, count(figures.last_offset))],
      ]),
    );
    readers.update(figures.consumers);
    stored.update(figures.stored_offsets);
  }
  return { element, update };
}

function queueFacts(queue) {
  const stats = queue.message_stats;
  return facts([
    ['State', queue.state],
    ['Ready', h('span', { 'data-field': 'ready' }, count(queue.messages_ready))],
    ['Unacked', h('span', { 'data-field': 'unacked' }, count(queue.messages_unacknowledged))],
    ['Total', h('span', { 'data-field': 'total' }, count(queue.messages))],
    ['Ready bytes', bytes(queue.message_bytes_ready)],
    ['Consumers', count(queue.consumers)],
    ['Incoming', rate(statRate(stats, 'publish'))],
    ['Deliver / get', rate(statRate(stats, 'deliver_get'))],
    ['Ack', rate(statRate(stats, 'ack'))],
    ['Durable', yesNo(queue.durable)],
    ['Auto delete', yesNo(queue.auto_delete)],
    ['Exclusive', yesNo(queue.exclusive)],
    ['Arguments', tableText(queue.arguments) || 'none'],
  ]);
}
