// A sortable, filterable data table. Rows are re-rendered on every refresh; sort column and filter
// text stay as the user left them.

import { h, replaceChildren, uid } from './dom.js';

/**
 * columns: [{ id, label, value(row) → sort key, cell?(row) → Node|string, numeric? }]
 * options: { caption, filterLabel?, filterValue?(row), empty, sort?: { id, descending } }
 */
export function createTable(columns, options) {
  const state = { sort: options.sort ?? { id: columns[0].id, descending: false }, filter: '', rows: [] };
  const tbody = h('tbody');
  const headRow = h('tr');
  const status = h('p', { class: 'table-status', 'aria-live': 'polite' });
  const table = h('table', { class: 'data' }, h('caption', { class: 'visually-hidden' }, options.caption), h('thead', {}, headRow), tbody);
  const filterInput = options.filterLabel === undefined ? null : h('input', { type: 'search', id: uid('filter'), placeholder: 'Filter', oninput: () => { state.filter = filterInput.value.trim().toLowerCase(); render(); } });
  const filter = filterInput === null ? null : h('div', { class: 'filter' }, h('label', { for: filterInput.id }, options.filterLabel), filterInput);

  function renderHead() {
    replaceChildren(
      headRow,
      columns.map((column) => {
        const active = state.sort.id === column.id;
        const sortAttr = active ? (state.sort.descending ? 'descending' : 'ascending') : undefined;
        const mark = active ? (state.sort.descending ? ' ▼' : ' ▲') : '';
        const button = h('button', { type: 'button', class: 'sort', onclick: () => sortBy(column.id) }, column.label, h('span', { 'aria-hidden': 'true' }, mark));
        return h('th', { scope: 'col', 'aria-sort': sortAttr, class: column.numeric ? 'num' : undefined }, column.sortable === false ? column.label : button);
      }),
    );
  }

  function sortBy(id) {
    state.sort = state.sort.id === id ? { id, descending: !state.sort.descending } : { id, descending: false };
    render();
  }

  function visibleRows() {
    const matches = options.filterValue ?? ((row) => String(row.name ?? ''));
    const rows = state.filter === '' ? state.rows : state.rows.filter((row) => matches(row).toLowerCase().includes(state.filter));
    const column = columns.find((c) => c.id === state.sort.id) ?? columns[0];
    const sign = state.sort.descending ? -1 : 1;
    return [...rows].sort((a, b) => sign * compare(column.value(a), column.value(b)));
  }

  function render() {
    renderHead();
    const rows = visibleRows();
    replaceChildren(
      tbody,
      rows.map((row) => h('tr', {}, columns.map((column) => h('td', { class: column.numeric ? 'num' : undefined }, column.cell ? column.cell(row) : String(column.value(row) ?? ''))))),
    );
    if (rows.length === 0) tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, state.rows.length === 0 ? options.empty : 'Nothing matches the filter.')));
    status.textContent = state.filter === '' ? `${state.rows.length} item${state.rows.length === 1 ? '' : 's'}` : `${rows.length} of ${state.rows.length} items match`;
  }

  return {
    element: h('div', { class: 'table-wrap' }, filter, h('div', { class: 'scroll' }, table), status),
    update(rows) {
      state.rows = rows;
      render();
    },
  };
}

function compare(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a ?? '').localeCompare(String(b ?? ''), 'en', { numeric: true });
}
