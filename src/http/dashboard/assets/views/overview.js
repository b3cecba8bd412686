// Overview: object totals, queued messages and message rates over time, listeners; in a cluster, its nodes.

import { facts, h, panel, replaceChildren } from '../lib/dom.js';
import { createChart } from '../lib/chart.js';
import { bytes, count, dateTime, rate, statRate, yesNo } from '../lib/format.js';
import { createTable } from '../lib/table.js';

const TOTALS = [
  ['connections', 'Connections', '#/connections'],
  ['channels', 'Channels', '#/channels'],
  ['exchanges', 'Exchanges', '#/exchanges'],
  ['queues', 'Queues', '#/queues'],
  ['consumers', 'Consumers', '#/queues'],
];

export function createOverviewView(ctx) {
  const totals = h('ul', { class: 'totals', 'aria-label': 'Totals' });
  const queued = createChart('Queued messages', count);
  const rates = createChart('Message rates', rate);
  const node = h('div');
  // Resource alarms block publishers (connection.blocked); an operator must see them at once.
  const alarms = h('div', { class: 'alarms', role: 'status', 'aria-live': 'polite' });
  const listeners = createTable(
    [
      { id: 'protocol', label: 'Protocol', value: (l) => l.protocol },
      { id: 'ip', label: 'Bound to', value: (l) => l.ip_address },
      { id: 'port', label: 'Port', value: (l) => l.port, numeric: true },
    ],
    { caption: 'Listeners', empty: 'No listeners.' },
  );
  const clusterNodes = createTable(
    [
      { id: 'name', label: 'Node', value: (n) => n.name },
      { id: 'state', label: 'State', value: (n) => n.cluster_state, cell: (n) => h('span', { class: `state ${n.cluster_state}`, 'data-node-state': n.cluster_state }, n.cluster_state) },
      { id: 'linked', label: 'Linked', value: (n) => (n.linked ? 'yes' : 'no'), cell: (n) => yesNo(n.linked) },
      { id: 'incarnation', label: 'Incarnation', value: (n) => n.incarnation, numeric: true },
      { id: 'lease', label: 'Lease until', value: (n) => n.lease_until, cell: (n) => dateTime(Date.parse(n.lease_until)) },
      { id: 'address', label: 'Address', value: (n) => `${n.host}:${n.amqp_port}` },
      { id: 'connections', label: 'Connections', value: (n) => n.connections, cell: (n) => count(n.connections), numeric: true },
      { id: 'queues', label: 'Queues owned', value: (n) => n.queues_owned, cell: (n) => count(n.queues_owned), numeric: true },
    ],
    { caption: 'Cluster nodes', empty: 'No nodes.' },
  );
  // Only a cluster node lists cluster fields; a single broker shows no cluster panel.
  const clusterPanel = panel('Cluster nodes', clusterNodes.element);
  clusterPanel.hidden = true;
  const element = h(
    'section',
    { class: 'view' },
    h('h1', {}, 'Overview'),
    alarms,
    totals,
    h('div', { class: 'charts' }, panel('Queued messages', queued.element), panel('Message rates', rates.element)),
    h('div', { class: 'columns' }, panel('Node', node), panel('Listening ports', listeners.element)),
    clusterPanel,
  );

  async function refresh() {
    const overview = ctx.overview;
    if (overview === undefined) return;
    const objects = overview.object_totals ?? {};
    const queueTotals = overview.queue_totals ?? {};
    replaceChildren(
      totals,
      TOTALS.map(([key, label, href]) => total(label, count(objects[key] ?? 0), href, key)),
      total('Ready', count(queueTotals.messages_ready ?? 0), undefined, 'ready'),
      total('Unacked', count(queueTotals.messages_unacknowledged ?? 0), undefined, 'unacked'),
      total('Total messages', count(queueTotals.messages ?? 0), undefined, 'messages'),
    );
    queued.update([
      { label: 'Ready', points: ctx.history.gauge('ready') },
      { label: 'Unacked', points: ctx.history.gauge('unacked') },
    ]);
    const nodes = await ctx.api.get('/api/nodes');
    // In a cluster /api/nodes lists every node; this page is about the one serving it.
    const nodeInfo = nodes.find((n) => n.name === overview.node) ?? nodes[0];
    replaceChildren(alarms, alarmBanners(nodeInfo ?? {}));
    const inCluster = nodes.some((n) => n.cluster_state !== undefined);
    clusterPanel.hidden = !inCluster;
    if (inCluster) clusterNodes.update(nodes);
    const stats = overview.message_stats ?? {};
    rates.update([
      { label: 'Publish', points: ratePoints(ctx, 'publish', statRate(stats, 'publish')) },
      { label: 'Deliver / get', points: ratePoints(ctx, 'deliver_get', statRate(stats, 'deliver_get')) },
      { label: 'Ack', points: ratePoints(ctx, 'ack', statRate(stats, 'ack')) },
    ]);
    replaceChildren(
      node,
      facts([
        ['Product', `${overview.product_name} ${overview.product_version}`],
        ['Node', overview.node],
        ['Runtime', `Node.js ${overview.node_version}`],
        ['Memory', `${bytes(nodeInfo?.mem_used ?? 0)} of ${bytes(nodeInfo?.mem_limit ?? 0)} (high watermark)`],
        ['Disk free', `${bytes(nodeInfo?.disk_free ?? 0)} (limit ${bytes(nodeInfo?.disk_free_limit ?? 0)})`],
        ['Messages published', count(stats.publish ?? 0)],
        ['Delivered or got', count(stats.deliver_get ?? 0)],
        ['Acknowledged', count(stats.ack ?? 0)],
        ['Unroutable (dropped)', count(stats.drop_unroutable ?? 0)],
      ]),
    );
    listeners.update(overview.listeners ?? []);
  }

  return { title: 'Overview', element, refresh };
}

function alarmBanners(nodeInfo) {
  const raised = [];
  if (nodeInfo.mem_alarm === true) {
    raised.push(`Memory alarm: ${bytes(nodeInfo.mem_used ?? 0)} used, above the high watermark of ${bytes(nodeInfo.mem_limit ?? 0)}.`);
  }
  if (nodeInfo.disk_free_alarm === true) {
    raised.push(`Disk alarm: ${bytes(nodeInfo.disk_free ?? 0)} free, below the limit of ${bytes(nodeInfo.disk_free_limit ?? 0)}.`);
  }
  if (nodeInfo.database_alarm === true) {
    raised.push('Cluster database alarm: PostgreSQL does not answer; nothing is confirmed until it does.');
  }
  return raised.map((text) => h('p', { class: 'alarm', 'data-alarm': 'raised' }, `${text} Publishers are blocked until it clears.`));
}

function total(label, value, href, key) {
  const content = [h('span', { class: 'total-label' }, label), h('span', { class: 'total-value', 'data-total': key }, value)];
  return h('li', {}, href === undefined ? h('div', { class: 'total' }, content) : h('a', { class: 'total', href }, content));
}

/** Rates measured between polls; before the second poll, the broker's own sampled rate. */
function ratePoints(ctx, name, serverRate) {
  const points = ctx.history.rate(name);
  if (points.length > 0) return points;
  const latest = ctx.history.latest;
  return latest === undefined ? [] : [{ t: latest.t, v: serverRate }];
}
