// The message browser of a queue page: peek (Warren's browse, nothing leaves the queue) or get with
// RabbitMQ's ack modes.

import { field, h, onSubmit, replaceChildren, select } from '../lib/dom.js';
import { bytes, table as tableText, yesNo } from '../lib/format.js';

const MODES = [
  ['peek', 'Peek – leave messages in place'],
  ['reject_requeue_true', 'Get, then requeue (sets redelivered)'],
  ['ack_requeue_false', 'Get and acknowledge – removes them'],
  ['reject_requeue_false', 'Get and reject – dead-letters or drops them'],
];

export function createMessageBrowser(ctx, queuePath) {
  const results = h('div', { class: 'messages', 'aria-live': 'polite' });
  let last;
  const form = onSubmit(
    h(
      'form',
      { class: 'inline-form', 'aria-label': 'Get messages' },
      field('Mode', select('mode', MODES, 'peek')),
      field('Messages', h('input', { name: 'count', type: 'number', min: 1, max: 1000, value: '10' })),
      field('From position', h('input', { name: 'offset', type: 'number', min: 0, value: '0' }), 'Peek only.'),
      h('button', { type: 'submit' }, 'Get messages'),
    ),
    async (data) => {
      last = { mode: String(data.get('mode')), count: Number(data.get('count') || 10), offset: Number(data.get('offset') || 0) };
      if (last.mode !== 'peek' && last.mode !== 'reject_requeue_true' && !window.confirm('This takes the messages out of the queue. Continue?')) return;
      await load();
    },
  );

  async function load() {
    if (last === undefined) return;
    try {
      const messages =
        last.mode === 'peek'
          ? await ctx.api.get(`${queuePath}/messages?offset=${last.offset}&count=${last.count}`)
          : await ctx.api.post(`${queuePath}/get`, { count: last.count, ackmode: last.mode, encoding: 'auto' });
      show(messages, last.mode === 'peek' ? last.offset : 0);
      if (last.mode !== 'peek') {
        last = undefined; // a get changes the queue: never repeat it on its own
        await ctx.refreshNow();
      }
    } catch (error) {
      ctx.fail(error);
    }
  }

  function show(messages, offset) {
    if (messages.length === 0) {
      replaceChildren(results, h('p', { class: 'empty' }, 'Queue is empty.'));
      return;
    }
    replaceChildren(results, messages.map((m, i) => messageCard(m, offset + i + 1)));
  }

  return {
    element: h('div', {}, form, results),
    /** Shows the browser's last peek again (after a purge, say); gets are not repeated. */
    reload: () => (last?.mode === 'peek' ? load() : Promise.resolve()),
  };
}

function messageCard(message, position) {
  const properties = message.properties ?? {};
  const { headers, ...rest } = properties;
  return h(
    'article',
    { class: 'message' },
    h('h3', {}, `Message ${position}`),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Exchange'),
      h('dd', {}, message.exchange === '' ? '(AMQP default)' : message.exchange),
      h('dt', {}, 'Routing key'),
      h('dd', {}, message.routing_key),
      h('dt', {}, 'Redelivered'),
      h('dd', {}, yesNo(message.redelivered)),
      h('dt', {}, 'Properties'),
      h('dd', {}, tableText(rest) || 'none'),
      h('dt', {}, 'Headers'),
      h('dd', {}, tableText(headers) || 'none'),
      h('dt', {}, 'Payload'),
      h('dd', {}, `${bytes(message.payload_bytes)}, encoding: ${message.payload_encoding}`),
    ),
    h('pre', { class: 'payload' }, message.payload),
  );
}
