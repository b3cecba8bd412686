// Jobs (warren/jobs): per job queue, the counts per state, failed jobs with their reason and stack (and
// a Retry button), delayed jobs with their due time, and job schedulers with their next run. Everything
// is read from the broker's record tables (/api/records): table `jobs.<queue>` holds one record per job
// tagged with its state, `jobs.<queue>.meta` the schedulers and the paused flag.

import { seg } from '../lib/api.js';
import { h, panel, replaceChildren } from '../lib/dom.js';
import { count, dateTime } from '../lib/format.js';
import { createTable } from '../lib/table.js';

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed'];
const PAGE = 50;

/** Job queue names from a vhost's record tables: `jobs.<queue>` (not the `.meta` tables). */
function jobQueuesOf(tables) {
  return tables.filter((t) => t.name.startsWith('jobs.') && !t.name.endsWith('.meta')).map((t) => t.name.slice('jobs.'.length));
}

/**
 * The message of a job moved back to waiting: the same as src/jobs/publish-spec.ts writes (the broker
 * publishes it only if the record was still failed, in the same group commit as the move).
 */
function retryOp(queue, record) {
  const value = record.value;
  const wire = { id: record.key, name: value.name, data: value.data, opts: value.opts, timestamp: value.timestamp, attemptsMade: 0 };
  const grouped = value.opts?.group !== undefined;
  const headers = grouped ? { 'x-job-group': value.opts.group.id } : {};
  const properties = { delivery_mode: 2, message_id: record.key, content_type: 'application/json', headers };
  if (!grouped) {
    const p = value.opts?.priority;
    properties.priority = p === undefined || p <= 0 ? 9 : Math.max(0, 9 - Math.min(p, 9));
  }
  const next = { name: value.name, data: value.data, opts: value.opts, timestamp: value.timestamp, attemptsMade: 0, progress: 0 };
  return {
    op: 'put',
    key: record.key,
    tag: 'waiting',
    value: next,
    ifTagIn: ['failed'],
    publish: { exchange: '', routing_key: grouped ? `jobs.${queue}.groups` : `jobs.${queue}`, payload: JSON.stringify(wire), properties },
  };
}

function repeatText(repeat) {
  if (repeat.every !== undefined) return `every ${count(repeat.every)} ms`;
  return `${repeat.pattern}${repeat.tz ? ` (${repeat.tz})` : ''}`;
}

export function createJobsView(ctx, vhostArg, queueArg) {
  const picker = h('select', { id: 'jobs-queue', onchange: () => {
    const [vhost, queue] = JSON.parse(picker.value);
    location.hash = `#/jobs/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}`;
  } });
  const countsList = h('dl', { class: 'facts', 'aria-label': 'Jobs per state' });
  const paused = h('p', { class: 'hint' });
  const failed = createTable(
    [
      { id: 'id', label: 'Job', value: (r) => r.key },
      { id: 'name', label: 'Name', value: (r) => r.value.name },
      { id: 'reason', label: 'Reason', value: (r) => r.value.failedReason ?? '' },
      { id: 'attempts', label: 'Attempts', value: (r) => r.value.attemptsMade ?? 0, numeric: true },
      { id: 'finished', label: 'Failed at', value: (r) => r.value.finishedOn ?? 0, cell: (r) => dateTime(r.value.finishedOn) },
      {
        id: 'stack',
        label: 'Stack',
        sortable: false,
        value: () => '',
        cell: (r) => h('details', {}, h('summary', {}, 'stack'), h('pre', { class: 'stack' }, (r.value.stacktrace ?? []).join('\n\n'))),
      },
      { id: 'retry', label: 'Retry', sortable: false, value: () => '', cell: (r) => h('button', { type: 'button', class: 'secondary', onclick: () => void retry(r) }, 'Retry') },
    ],
    { caption: 'Failed jobs', filterLabel: 'Filter failed jobs by reason', filterValue: (r) => `${r.key} ${r.value.name} ${r.value.failedReason ?? ''}`, empty: 'No failed jobs.', sort: { id: 'finished', descending: true } },
  );
  const delayed = createTable(
    [
      { id: 'id', label: 'Job', value: (r) => r.key },
      { id: 'name', label: 'Name', value: (r) => r.value.name },
      { id: 'due', label: 'Due', value: (r) => r.value.delayUntil ?? 0, cell: (r) => dateTime(r.value.delayUntil) },
      { id: 'attempts', label: 'Attempts', value: (r) => r.value.attemptsMade ?? 0, numeric: true },
    ],
    { caption: 'Delayed jobs', empty: 'No delayed jobs.', sort: { id: 'due', descending: false } },
  );
  const schedulers = createTable(
    [
      { id: 'id', label: 'Scheduler', value: (r) => r.value.id },
      { id: 'repeat', label: 'Repeat', value: (r) => repeatText(r.value.repeat) },
      { id: 'job', label: 'Job name', value: (r) => r.value.template?.name ?? '' },
      { id: 'next', label: 'Next run', value: (r) => r.value.next ?? 0, cell: (r) => (r.value.next === undefined ? 'none (ended)' : dateTime(r.value.next)) },
      { id: 'count', label: 'Runs', value: (r) => r.value.count ?? 0, numeric: true },
    ],
    { caption: 'Job schedulers', empty: 'No job schedulers.' },
  );
  const body = h('div');
  const element = h('section', { class: 'view' }, h('h1', {}, 'Jobs'), h('div', { class: 'filter' }, h('label', { for: 'jobs-queue' }, 'Job queue'), picker), body);
  let selected;
  let built = false;

  async function retry(record) {
    const [vhost, queue] = selected;
    try {
      const { results } = await ctx.api.post(`/api/records/${seg(vhost)}/${seg(`jobs.${queue}`)}`, { ops: [retryOp(queue, record)] });
      ctx.notify(results[0]?.ok ? `Job ${record.key} is waiting again.` : `Job ${record.key} is no longer failed.`, results[0]?.ok ? 'info' : 'error');
    } catch (error) {
      ctx.fail(error);
    }
    await ctx.refreshNow();
  }

  async function listQueues() {
    const vhosts = await ctx.api.get('/api/vhosts');
    const found = [];
    for (const vhost of vhosts) {
      const tables = await ctx.api.get(`/api/records/${seg(vhost.name)}`);
      for (const queue of jobQueuesOf(tables)) found.push([vhost.name, queue]);
    }
    return found;
  }

  return {
    title: 'Jobs',
    element,
    refresh: async () => {
      const queues = await listQueues();
      if (queues.length === 0) {
        replaceChildren(body, h('p', {}, 'No job queues yet: they appear once warren/jobs adds a job.'));
        built = false;
        return;
      }
      selected = queues.find(([v, q]) => v === vhostArg && q === queueArg) ?? queues[0];
      replaceChildren(picker, queues.map(([v, q]) => h('option', { value: JSON.stringify([v, q]), selected: v === selected[0] && q === selected[1] }, `${q} (${v})`)));
      const [vhost, queue] = selected;
      const table = (name, query) => ctx.api.get(`/api/records/${seg(vhost)}/${seg(name)}?${query}`);
      const [failedPage, delayedPage, meta] = await Promise.all([
        table(`jobs.${queue}`, `tag=failed&limit=${PAGE}`),
        table(`jobs.${queue}`, `tag=delayed&limit=${PAGE}&order=asc`),
        table(`jobs.${queue}.meta`, 'limit=1000&order=asc'),
      ]);
      replaceChildren(countsList, STATES.map((state) => [h('dt', {}, state), h('dd', { 'data-job-count': state }, count(failedPage.counts[state] ?? 0))]));
      paused.textContent = meta.items.some((r) => r.key === 'paused') ? 'This queue is paused: workers take no jobs until it is resumed.' : '';
      failed.update(failedPage.items);
      delayed.update(delayedPage.items);
      schedulers.update(meta.items.filter((r) => r.tag === 'scheduler'));
      if (!built) {
        built = true;
        replaceChildren(
          body,
          panel('Jobs per state', countsList, paused),
          panel(`Failed jobs (newest ${PAGE})`, failed.element),
          panel(`Delayed jobs (next ${PAGE} due)`, delayed.element),
          panel('Job schedulers', schedulers.element),
        );
      }
    },
  };
}
