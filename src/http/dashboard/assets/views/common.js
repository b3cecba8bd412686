// Pieces several pages share: links to objects, vhost choices, the publish form.

import { seg } from '../lib/api.js';
import { field, h, onSubmit, parseKeyValues, select, setOptions } from '../lib/dom.js';
import { exchangeLabel, exchangeUrlName } from '../lib/format.js';

export function queueHref(vhost, name) {
  return `#/queues/${seg(vhost)}/${seg(name)}`;
}

export function exchangeHref(vhost, name) {
  return `#/exchanges/${seg(vhost)}/${seg(exchangeUrlName(name))}`;
}

export function queueLink(vhost, name) {
  return h('a', { href: queueHref(vhost, name) }, name);
}

export function exchangeLink(vhost, name) {
  return h('a', { href: exchangeHref(vhost, name) }, exchangeLabel(name));
}

/** API path of a queue or exchange: /api/<kind>/<vhost>/<name>. */
export function objectPath(kind, vhost, name) {
  return `/api/${kind}/${seg(vhost)}/${seg(kind === 'exchanges' ? exchangeUrlName(name) : name)}`;
}

/** A vhost <select> kept in sync with /api/vhosts. */
export function vhostSelect() {
  const element = select('vhost', ['/'], '/');
  return {
    element,
    async refresh(api) {
      const vhosts = await api.get('/api/vhosts?columns=name');
      setOptions(element, vhosts.map((v) => v.name));
    },
  };
}

/** Runs an API action and reports its outcome; errors become notices. */
export async function act(ctx, action, success) {
  try {
    const result = await action();
    if (success !== undefined) ctx.notify(typeof success === 'function' ? success(result) : success, 'success');
    await ctx.refreshNow();
    return true;
  } catch (error) {
    ctx.fail(error);
    return false;
  }
}

/**
 * "Publish message" form: to an exchange with a routing key, or (from a queue page) to the default
 * exchange with the queue's name as key.
 */
export function publishForm(ctx, vhost, exchange, defaultKey) {
  const form = h(
    'form',
    { class: 'stack', 'aria-label': 'Publish message' },
    field('Routing key', h('input', { name: 'routing_key', value: defaultKey })),
    field('Delivery mode', select('delivery_mode', [['1', '1 – non-persistent'], ['2', '2 – persistent']], '2')),
    field('Content type', h('input', { name: 'content_type', placeholder: 'text/plain' })),
    field('Headers', h('textarea', { name: 'headers', rows: 2, placeholder: 'name = value' }), 'One "name = value" per line.'),
    field('Payload', h('textarea', { name: 'payload', rows: 4 })),
    h('button', { type: 'submit' }, 'Publish message'),
  );
  return onSubmit(form, async (data) => {
    let headers;
    try {
      headers = parseKeyValues(String(data.get('headers')));
    } catch (error) {
      return ctx.notify(error.message, 'error');
    }
    const properties = { delivery_mode: Number(data.get('delivery_mode')), headers };
    const contentType = String(data.get('content_type')).trim();
    if (contentType !== '') properties.content_type = contentType;
    const body = { routing_key: String(data.get('routing_key')), payload: String(data.get('payload')), payload_encoding: 'string', properties };
    await act(
      ctx,
      () => ctx.api.post(`${objectPath('exchanges', vhost, exchange)}/publish`, body),
      (result) => (result?.routed ? 'Message published.' : 'Message published, but not routed to any queue.'),
    );
  });
}

/** "Durable", "Auto delete", ... flags in a table cell. */
export function features(row) {
  const flags = [];
  if (row.durable) flags.push(h('abbr', { title: 'durable', class: 'flag' }, 'D'));
  if (row.auto_delete) flags.push(h('abbr', { title: 'auto-delete', class: 'flag' }, 'AD'));
  if (row.exclusive) flags.push(h('abbr', { title: 'exclusive', class: 'flag' }, 'Excl'));
  if (row.internal) flags.push(h('abbr', { title: 'internal', class: 'flag' }, 'I'));
  for (const key of Object.keys(row.arguments ?? {})) flags.push(h('abbr', { title: `${key}: ${JSON.stringify(row.arguments[key])}`, class: 'flag arg' }, shortArgument(key)));
  return flags;
}

function shortArgument(key) {
  const known = { 'x-message-ttl': 'TTL', 'x-expires': 'Exp', 'x-max-length': 'Lim', 'x-max-length-bytes': 'Lim B', 'x-dead-letter-exchange': 'DLX', 'x-dead-letter-routing-key': 'DLK', 'x-max-priority': 'Pri', 'x-single-active-consumer': 'SAC', 'x-queue-mode': 'Mode', 'x-overflow': 'Ovfl' };
  return known[key] ?? key.replace(/^x-/, '');
}
